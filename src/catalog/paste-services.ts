/**
 * The built-in paste-service catalog as data: one entry per domain, with its service name, category,
 * default severity, the public detection content that names it (source letters) and notes. Facts come
 * from /work/shared/reference/paste-domains.md; bump CATALOG_VERSION whenever an entry changes.
 */

/** Catalog version: date of the last change plus a serial, reported in docs and `pastewatch components`. */
export const CATALOG_VERSION = '2026.12.04-1';

/** What kind of service a domain is; drives whether it is on by default and how severe a hit is. */
export type Category = 'paste' | 'paste_like' | 'code_hosting_raw' | 'file_drop' | 'request_sink' | 'cloud_storage';

/** Every category, in documentation order. */
export const CATEGORIES: readonly Category[] = ['paste', 'paste_like', 'code_hosting_raw', 'file_drop', 'request_sink', 'cloud_storage'];

/** Categories matched unless the config says otherwise (the others are noisy in ordinary builds). */
export const DEFAULT_CATEGORIES: readonly Category[] = ['paste', 'file_drop', 'request_sink'];

/**
 * Which public detection content names the domain: E Elastic "Connection to Commonly Abused Web Services",
 * S SigmaHQ, D Datadog PASTE_SITES / exfil macros, L MISP warninglist LOTS, J Jibril's own docs.
 */
export type SourceLetter = 'E' | 'S' | 'D' | 'L' | 'J';

/** Severity text of a catalog entry (OTLP bands: INFO 9, WARN 13, ERROR 17, FATAL 21). */
export type CatalogSeverity = 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

/** One catalog entry. */
export interface CatalogEntry {
  /** Registrable name (or service host) matched on label boundaries; lower-case ASCII (punycode for IDNs). */
  domain: string;
  /** Display name. */
  service: string;
  category: Category;
  /** Floor severity of any detection of it; the classifier's category x activity table may raise it. */
  severity: CatalogSeverity;
  sources: SourceLetter[];
  notes: string;
}

type Row = [domain: string, service: string, sources: string, notes?: string];

/** Default severity of an entry by category: the floor of every detection of it (a lookup included). */
export const CATEGORY_SEVERITY: Readonly<Record<Category, CatalogSeverity>> = {
  paste: 'ERROR',
  file_drop: 'ERROR',
  request_sink: 'ERROR',
  paste_like: 'INFO',
  code_hosting_raw: 'INFO',
  cloud_storage: 'INFO',
};

const ROWS: Record<Category, Row[]> = {
  paste: [
    ['pastebin.com', 'Pastebin', 'ESDL', 'The best-known text bin; raw pastes under /raw/.'],
    ['pastebin.pl', 'Pastebin.pl', 'SL', ''],
    ['paste.ee', 'Paste.ee', 'ESDL', ''],
    ['paste2.org', 'Paste2', 'D', ''],
    ['paste.ofcode.org', 'Paste of Code', 'D', ''],
    ['paste.centos.org', 'CentOS Paste', 'D', 'Community paste of the CentOS project.'],
    ['paste.nrecom.net', 'Paste nrecom', 'E', ''],
    ['paste4btc.com', 'Paste4BTC', 'E', ''],
    ['pastetext.net', 'PasteText', 'SL', ''],
    ['pastie.org', 'Pastie', 'L', ''],
    ['hastebin.com', 'Hastebin', 'SD', ''],
    ['ghostbin.com', 'Ghostbin', 'ED', ''],
    ['ghostbin.co', 'Ghostbin (.co)', 'S', ''],
    ['controlc.com', 'ControlC', 'E', ''],
    ['dpaste.org', 'dpaste.org', 'D', ''],
    ['dpaste.com', 'dpaste.com', '', ''],
    ['rentry.co', 'Rentry', 'DL', 'Markdown paste with custom URLs.'],
    ['rentry.org', 'Rentry (.org)', '', ''],
    ['termbin.com', 'Termbin', 'DL', 'Netcat paste: `... | nc termbin.com 9999`.'],
    ['ix.io', 'ix.io', 'L', 'Command-line paste over HTTP POST.'],
    ['sprunge.us', 'Sprunge', 'L', 'Command-line paste over HTTP POST.'],
    ['clbin.com', 'clbin', 'L', ''],
    ['textbin.net', 'TextBin', 'L', ''],
    ['wtools.io', 'wtools.io', 'L', 'Online tools including a paste bin.'],
    ['zerobin.net', 'ZeroBin', 'EL', 'Client-side encrypted paste.'],
    ['klgrth.io', 'klgrth.io', 'D', ''],
    ['paste.rs', 'paste.rs', '', 'Command-line paste over HTTP POST.'],
    ['justpaste.it', 'JustPaste.it', '', ''],
    ['privatebin.net', 'PrivateBin', '', 'Client-side encrypted paste.'],
    ['pastes.io', 'Pastes.io', '', ''],
    ['paste.mozilla.org', 'Mozilla Paste', '', 'Mozilla community paste.'],
    ['bpa.st', 'bpa.st', '', 'Python community paste (pinnwand).'],
    ['hst.sh', 'hst.sh (Hastebin)', '', 'Current Hastebin host.'],
  ],
  paste_like: [
    ['telegra.ph', 'Telegraph', 'L', 'Anonymous publishing; higher false-positive risk.'],
    ['teletype.in', 'Teletype', 'L', 'Blog publishing; higher false-positive risk.'],
    ['ideone.com', 'Ideone', 'L', 'Online code runner.'],
    ['codepen.io', 'CodePen', 'L', 'Front-end code playground.'],
  ],
  code_hosting_raw: [
    ['gist.githubusercontent.com', 'GitHub Gist (raw)', 'EJS', 'Raw gist content; Jibril docs confirm it fires plaintext_communication.'],
    ['gist.github.com', 'GitHub Gist', '', ''],
    ['raw.githubusercontent.com', 'GitHub raw content', 'ELS', 'Very common in legitimate CI (install scripts).'],
    ['rawcdn.githack.com', 'raw.githack CDN', 'E', ''],
    ['notabug.org', 'NotABug', 'E', ''],
  ],
  file_drop: [
    ['transfer.sh', 'transfer.sh', 'ESDL', 'curl --upload-file friendly anonymous upload.'],
    ['temp.sh', 'temp.sh', 'S', ''],
    ['0x0.st', '0x0.st', '', 'The Null Pointer: curl -F file=@... upload.'],
    ['file.io', 'file.io', 'ED', 'One-download ephemeral files.'],
    ['filebin.net', 'Filebin', 'EL', ''],
    ['filetransfer.io', 'FileTransfer.io', 'L', ''],
    ['gofile.io', 'Gofile', 'ESDL', ''],
    ['anonfiles.com', 'AnonFiles', 'ESDL', 'Service closed in 2023; still named by rules and by malware.'],
    ['anonfile.com', 'AnonFile', 'ED', ''],
    ['bayfiles.com', 'BayFiles', 'D', ''],
    ['catbox.moe', 'Catbox', 'ED', ''],
    ['litterbox.catbox.moe', 'Litterbox (Catbox temporary)', '', 'Temporary uploads; more specific than catbox.moe.'],
    ['krakenfiles.com', 'KrakenFiles', 'D', ''],
    ['pixeldrain.com', 'Pixeldrain', 'S', ''],
    ['ufile.io', 'Ufile', 'SL', ''],
    ['sendspace.com', 'SendSpace', 'SDL', ''],
    ['send.exploit.in', 'send.exploit.in', 'S', ''],
    ['dropmefiles.com', 'DropMeFiles', 'S', ''],
    ['filedropper.com', 'FileDropper', 'D', ''],
    ['top4top.io', 'Top4Top', 'E', ''],
    ['uplooder.net', 'Uplooder', 'EL', ''],
    ['cdnmegafiles.com', 'CDN Mega Files', 'E', ''],
    ['oshi.at', 'oshi.at', '', 'Anonymous upload with curl support.'],
    ['bashupload.com', 'bashupload', '', 'curl -T upload from a shell.'],
  ],
  request_sink: [
    ['webhook.site', 'Webhook.site', 'ED', 'Captures any request; used to exfiltrate and to test callbacks.'],
    ['requestbin.net', 'RequestBin (.net)', 'EDL', ''],
    ['requestbin.com', 'RequestBin', 'D', ''],
    ['pipedream.net', 'Pipedream', 'D', 'Request capture endpoints (*.m.pipedream.net).'],
    ['hookbin.com', 'Hookbin', 'D', ''],
    ['mockbin.org', 'Mockbin', 'E', ''],
    ['run.mocky.io', 'Mocky', 'E', ''],
    ['canarytokens.org', 'Canarytokens', 'D', 'Also fires when a canary token is tripped: worth investigating either way.'],
    ['webhookrelay.com', 'Webhook Relay', 'D', ''],
    ['interact.sh', 'Interactsh', '', 'Out-of-band interaction server (ProjectDiscovery).'],
    ['oast.fun', 'Interactsh (oast.fun)', '', 'Out-of-band interaction server.'],
    ['oast.pro', 'Interactsh (oast.pro)', '', 'Out-of-band interaction server.'],
  ],
  cloud_storage: [
    ['dropbox.com', 'Dropbox', 'SDL', 'Ordinary traffic in many builds: opt-in.'],
    ['dropboxusercontent.com', 'Dropbox content', 'SL', ''],
    ['drive.google.com', 'Google Drive', 'SL', ''],
    ['docs.google.com', 'Google Docs', 'SL', 'Docs/Sheets/Forms; also used as a dead-drop resolver.'],
    ['onedrive.live.com', 'OneDrive', 'SL', ''],
    ['1drv.ms', 'OneDrive short links', 'SL', ''],
    ['mega.nz', 'MEGA', 'SDL', ''],
    ['wetransfer.com', 'WeTransfer', 'SL', ''],
    ['mediafire.com', 'MediaFire', 'SDL', ''],
    ['cdn.discordapp.com', 'Discord CDN', 'SDL', 'Attachments; also a common malware staging host.'],
  ],
};

/** The built-in catalog, every entry (frozen). */
export const PASTE_SERVICES: readonly CatalogEntry[] = Object.freeze(
  (Object.keys(ROWS) as Category[]).flatMap((category) =>
    ROWS[category].map(([domain, service, sources, notes]) =>
      Object.freeze({
        domain,
        service,
        category,
        severity: CATEGORY_SEVERITY[category],
        sources: [...sources] as SourceLetter[],
        notes: notes ?? '',
      }),
    ),
  ),
);
