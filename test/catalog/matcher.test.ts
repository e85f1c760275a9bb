import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogMatcher, isValidHostname, normaliseName } from '../../src/catalog/matcher.js';
import { CATALOG_VERSION, CATEGORIES, PASTE_SERVICES } from '../../src/catalog/paste-services.js';
import type { Category } from '../../src/catalog/paste-services.js';
import { catalogSchema, matcherOptions, validateCatalogConfig } from '../../src/catalog/config.js';
import { PastewatchError } from '../../src/util/errors.js';

// Copied from shared/reference/paste-domains.md: the catalog must hold every one in its category.
const REFERENCE: Record<Category, string> = {
  paste:
    'pastebin.com pastebin.pl paste.ee paste2.org paste.ofcode.org paste.centos.org paste.nrecom.net paste4btc.com pastetext.net pastie.org hastebin.com ghostbin.com ghostbin.co controlc.com dpaste.org dpaste.com rentry.co rentry.org termbin.com ix.io sprunge.us clbin.com textbin.net wtools.io zerobin.net klgrth.io paste.rs justpaste.it privatebin.net pastes.io paste.mozilla.org bpa.st hst.sh',
  paste_like: 'telegra.ph teletype.in ideone.com codepen.io',
  code_hosting_raw: 'gist.githubusercontent.com gist.github.com raw.githubusercontent.com rawcdn.githack.com notabug.org',
  file_drop:
    'transfer.sh temp.sh 0x0.st file.io filebin.net filetransfer.io gofile.io anonfiles.com anonfile.com bayfiles.com catbox.moe litterbox.catbox.moe krakenfiles.com pixeldrain.com ufile.io sendspace.com send.exploit.in dropmefiles.com filedropper.com top4top.io uplooder.net cdnmegafiles.com oshi.at bashupload.com',
  request_sink:
    'webhook.site requestbin.net requestbin.com pipedream.net hookbin.com mockbin.org run.mocky.io canarytokens.org webhookrelay.com interact.sh oast.fun oast.pro',
  cloud_storage: 'dropbox.com dropboxusercontent.com drive.google.com docs.google.com onedrive.live.com 1drv.ms mega.nz wetransfer.com mediafire.com cdn.discordapp.com',
};

const all = new CatalogMatcher({ categories: CATEGORIES });

describe('catalog data', () => {
  test('holds every reference domain in its category, once, with a version', () => {
    const byDomain = new Map(PASTE_SERVICES.map((e) => [e.domain, e]));
    assert.equal(byDomain.size, PASTE_SERVICES.length, 'duplicate domain in the catalog');
    let n = 0;
    for (const [cat, list] of Object.entries(REFERENCE)) {
      for (const d of list.split(' ')) {
        n++;
        assert.equal(byDomain.get(d)?.category, cat, `${d} should be in ${cat}`);
      }
    }
    assert.equal(PASTE_SERVICES.length, n);
    assert.match(CATALOG_VERSION, /^\d{4}\.\d{2}\.\d{2}-\d+$/);
  });

  test('entries are well formed: normalised domain, service name, severity, known source letters', () => {
    for (const e of PASTE_SERVICES) {
      assert.equal(normaliseName(e.domain), e.domain);
      assert.ok(isValidHostname(e.domain), e.domain);
      assert.ok(e.service.length > 0, e.domain);
      assert.ok(['INFO', 'WARN', 'ERROR', 'FATAL'].includes(e.severity));
      for (const s of e.sources) assert.ok('ESDLJ'.includes(s));
    }
    assert.deepEqual(PASTE_SERVICES.find((e) => e.domain === 'pastebin.com')?.sources, ['E', 'S', 'D', 'L']);
    assert.equal(PASTE_SERVICES.find((e) => e.domain === 'pastebin.com')?.severity, 'ERROR');
  });
});

describe('normaliseName', () => {
  test('lower-cases, strips trailing dots, converts Unicode to punycode, keeps xn--', () => {
    assert.equal(normaliseName('PASTEBIN.COM.'), 'pastebin.com');
    assert.equal(normaliseName('pastebin.com..'), 'pastebin.com');
    assert.equal(normaliseName('Bücher.Example'), 'xn--bcher-kva.example');
    assert.equal(normaliseName('xn--bcher-kva.example'), 'xn--bcher-kva.example');
    assert.equal(normaliseName('.'), '');
    assert.equal(normaliseName(''), '');
  });
});

describe('CatalogMatcher', () => {
  test('every domain matches itself, www., a trailing dot and upper case', () => {
    for (const e of PASTE_SERVICES) {
      for (const name of [e.domain, `www.${e.domain}`, `${e.domain}.`, e.domain.toUpperCase(), `A.B.${e.domain.toUpperCase()}.`]) {
        const m = all.match(name);
        // litterbox.catbox.moe is itself under catbox.moe; every name must map to its own, most specific entry.
        assert.equal(m?.domain, e.domain, `${name} -> ${m?.domain}`);
      }
    }
  });

  test('look-alikes never match', () => {
    for (const name of ['notpastebin.com', 'pastebin.com.evil.net', 'pastebin.company', 'pastebin', 'com', 'xpaste.ee', 'paste.ee.example', 'ix.io.attacker.net', 'eix.io', 'catbox.moe.evil', 'bucher.example', '', '.', 'ebhook.site']) {
      assert.equal(all.match(name), undefined, name);
    }
  });

  test('longest suffix wins', () => {
    assert.equal(all.match('litterbox.catbox.moe')?.service, 'Litterbox (Catbox temporary)');
    assert.equal(all.match('files.litterbox.catbox.moe')?.domain, 'litterbox.catbox.moe');
    assert.equal(all.match('files.catbox.moe')?.domain, 'catbox.moe');
    assert.equal(all.match('eu.m.pipedream.net')?.domain, 'pipedream.net');
  });

  test('IDNA: a Unicode name matches an xn-- extra domain and the other way round', () => {
    const m = new CatalogMatcher({ extraDomains: [{ domain: 'xn--bcher-kva.example', category: 'paste', service: 'Bücher paste' }] });
    assert.equal(m.match('www.BÜCHER.example.')?.service, 'Bücher paste');
    assert.equal(m.match('bücher.example')?.domain, 'xn--bcher-kva.example');
    assert.equal(m.match('xn--bcher-kva.example')?.category, 'paste');
    assert.equal(m.match('bucher.example'), undefined);
    const u = new CatalogMatcher({ extraDomains: [{ domain: 'Bücher.example', category: 'file_drop' }] });
    assert.equal(u.match('a.xn--bcher-kva.example')?.domain, 'xn--bcher-kva.example');
    assert.equal(u.match('a.xn--bcher-kva.example')?.service, 'xn--bcher-kva.example');
  });

  test('allow list wins on label boundaries', () => {
    const m = new CatalogMatcher({ categories: CATEGORIES, allowedDomains: ['raw.githubusercontent.com', 'LITTERBOX.catbox.moe.'] });
    assert.equal(m.match('raw.githubusercontent.com'), undefined);
    assert.equal(m.match('x.raw.githubusercontent.com'), undefined);
    assert.equal(m.match('gist.githubusercontent.com')?.domain, 'gist.githubusercontent.com');
    assert.equal(m.match('litterbox.catbox.moe'), undefined);
    assert.equal(m.match('a.litterbox.catbox.moe'), undefined);
    assert.equal(m.match('catbox.moe')?.domain, 'catbox.moe');
    assert.equal(m.match('notlitterbox.catbox.moe')?.domain, 'catbox.moe');
    // Allowing a parent covers every entry below it.
    const p = new CatalogMatcher({ allowedDomains: ['catbox.moe'] });
    assert.equal(p.match('litterbox.catbox.moe'), undefined);
  });

  test('default categories: paste, file_drop, request_sink on; the rest opt-in', () => {
    const d = new CatalogMatcher();
    assert.equal(d.match('pastebin.com')?.category, 'paste');
    assert.equal(d.match('transfer.sh')?.category, 'file_drop');
    assert.equal(d.match('webhook.site')?.category, 'request_sink');
    for (const n of ['telegra.ph', 'raw.githubusercontent.com', 'dropbox.com', 'cdn.discordapp.com']) assert.equal(d.match(n), undefined, n);
    const only = new CatalogMatcher({ categories: ['cloud_storage'] });
    assert.equal(only.match('pastebin.com'), undefined);
    assert.equal(only.match('www.dropbox.com')?.category, 'cloud_storage');
    // Extra domains match whatever the enabled categories.
    const x = new CatalogMatcher({ categories: ['paste'], extraDomains: [{ domain: 'exfil.example', category: 'cloud_storage', severity: 'FATAL' }] });
    assert.equal(x.match('a.exfil.example')?.severity, 'FATAL');
    assert.equal(x.size, 34);
  });

  test('an extra domain overrides a built-in entry', () => {
    const m = new CatalogMatcher({ extraDomains: [{ domain: 'pastebin.com', category: 'paste', service: 'Ours', severity: 'FATAL' }] });
    assert.equal(m.match('pastebin.com')?.service, 'Ours');
    assert.equal(m.match('pastebin.com')?.severity, 'FATAL');
  });

  test('bad extra or allowed domains are clear config errors', () => {
    assert.throws(() => new CatalogMatcher({ extraDomains: [{ domain: 'bad domain!', category: 'paste' }] }), (e: unknown) => e instanceof PastewatchError && e.code === 'CONFIG_INVALID' && /"bad domain!"/.test(e.message));
    assert.throws(() => new CatalogMatcher({ allowedDomains: ['...'] }), (e: unknown) => e instanceof PastewatchError && /allowed domain/.test(e.message));
    const cfg = catalogSchema.parse({ extra_domains: [{ domain: 'ok.example', category: 'paste' }, { domain: 'a..b', category: 'paste' }], allowed_domains: ['fine.example', 'x y'] });
    assert.deepEqual(validateCatalogConfig(cfg), [
      { path: ['extra_domains', 1, 'domain'], message: '"a..b" is not a valid hostname' },
      { path: ['allowed_domains', 1], message: '"x y" is not a valid hostname' },
    ]);
    assert.equal(catalogSchema.safeParse({ categories: ['pastes'] }).success, false);
    assert.equal(catalogSchema.safeParse({ extra_domains: [{ domain: 'a.example' }] }).success, false);
  });

  test('config defaults and overlay build the same matcher', () => {
    const def = catalogSchema.parse({});
    assert.deepEqual(def, { categories: ['paste', 'file_drop', 'request_sink'], extra_domains: [], allowed_domains: [] });
    const m = new CatalogMatcher(matcherOptions(catalogSchema.parse({ categories: ['paste'], allowed_domains: ['pastebin.com'], extra_domains: [{ domain: 'drop.example', category: 'file_drop', service: 'Drop' }] })));
    assert.equal(m.match('pastebin.com'), undefined);
    assert.equal(m.match('paste.ee')?.domain, 'paste.ee');
    assert.equal(m.match('transfer.sh'), undefined);
    assert.equal(m.match('drop.example')?.service, 'Drop');
    assert.equal(m.match('drop.example')?.severity, 'ERROR');
  });
});
