/**
 * Loads pastewatch's Hubble Observer protos (proto/hubble/, a subset of Cilium's api/v1) with
 * @grpc/proto-loader. The proto directory is found by walking up from this module, so the same code works
 * from src/ (tsx) and from dist/src/ (compiled) and from an installed package (proto/ is in "files").
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PastewatchError } from '../util/errors.js';

/** gRPC method path of the streaming call the hubble receiver makes. */
export const GET_FLOWS_PATH = '/observer.Observer/GetFlows';

/** Finds proto/hubble by walking up from this module's directory. */
export function hubbleProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'proto', 'hubble');
    if (existsSync(join(candidate, 'observer', 'observer.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new PastewatchError('INTERNAL', `hubble protos not found: no proto/hubble/observer/observer.proto above ${fileURLToPath(import.meta.url)}`);
}

/** The loaded Observer service: its definition (for servers) and client constructor. */
export interface ObserverProto {
  packageDefinition: protoLoader.PackageDefinition;
  service: grpc.ServiceDefinition;
  Client: grpc.ServiceClientConstructor;
}

let cached: ObserverProto | undefined;

/** Loads (once) the Observer service with the options both receivers and tests rely on. */
export function loadObserverProto(): ObserverProto {
  if (cached) return cached;
  const dir = hubbleProtoDir();
  const packageDefinition = protoLoader.loadSync(join(dir, 'observer', 'observer.proto'), {
    keepCase: true, // field names as Hubble's JSON spells them (IP, TCP, is_reply ...)
    longs: String, // uint64 as decimal strings, like protojson
    enums: String, // enum names, like protojson
    defaults: false, // absent stays absent, like protojson's zero-value omission
    oneofs: true,
    includeDirs: [dir],
  });
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as { observer: { Observer: grpc.ServiceClientConstructor } };
  const Client = loaded.observer.Observer;
  cached = { packageDefinition, service: Client.service, Client };
  return cached;
}
