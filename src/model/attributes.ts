/**
 * Attribute keys used on observations and detections: stable OpenTelemetry semantic-convention keys,
 * incubating ones copied here (the package root exports only stable constants), and our own
 * `pastewatch.*` namespace. These keys are a public contract: see docs/detection-schema.md.
 */

/** An attribute value as OTLP can carry it. */
export type AttrValue = string | number | boolean | string[] | number[] | boolean[];

/** A flat attribute map (OTLP log record / span attributes). */
export type Attributes = Record<string, AttrValue>;

/** Stable and incubating semantic-convention keys (semantic-conventions 1.45). */
export const ATTR = {
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  SOURCE_ADDRESS: 'source.address',
  SOURCE_PORT: 'source.port',
  DESTINATION_ADDRESS: 'destination.address',
  DESTINATION_PORT: 'destination.port',
  NETWORK_TRANSPORT: 'network.transport',
  NETWORK_TYPE: 'network.type',
  NETWORK_PROTOCOL_NAME: 'network.protocol.name',
  URL_FULL: 'url.full',
  URL_DOMAIN: 'url.domain',
  HTTP_REQUEST_METHOD: 'http.request.method',
  DNS_QUESTION_NAME: 'dns.question.name',
  DNS_ANSWERS: 'dns.answers',
  HOST_NAME: 'host.name',
  PROCESS_PID: 'process.pid',
  PROCESS_PARENT_PID: 'process.parent_pid',
  PROCESS_EXECUTABLE_NAME: 'process.executable.name',
  PROCESS_EXECUTABLE_PATH: 'process.executable.path',
  PROCESS_COMMAND_LINE: 'process.command_line',
  PROCESS_OWNER: 'process.owner',
  PROCESS_USER_ID: 'process.user.id',
  CONTAINER_ID: 'container.id',
  CONTAINER_NAME: 'container.name',
  CONTAINER_IMAGE_NAME: 'container.image.name',
  CONTAINER_IMAGE_TAGS: 'container.image.tags',
  K8S_POD_NAME: 'k8s.pod.name',
  K8S_POD_UID: 'k8s.pod.uid',
  K8S_NAMESPACE_NAME: 'k8s.namespace.name',
  K8S_NODE_NAME: 'k8s.node.name',
  K8S_CLUSTER_NAME: 'k8s.cluster.name',
  CICD_PIPELINE_NAME: 'cicd.pipeline.name',
  CICD_PIPELINE_RUN_ID: 'cicd.pipeline.run.id',
  CICD_PIPELINE_RUN_URL_FULL: 'cicd.pipeline.run.url.full',
  CICD_PIPELINE_TASK_NAME: 'cicd.pipeline.task.name',
  CICD_PIPELINE_TASK_RUN_ID: 'cicd.pipeline.task.run.id',
  CICD_WORKER_NAME: 'cicd.worker.name',
  CICD_SYSTEM_COMPONENT: 'cicd.system.component',
  VCS_REPOSITORY_URL_FULL: 'vcs.repository.url.full',
  VCS_REPOSITORY_NAME: 'vcs.repository.name',
  VCS_REF_HEAD_NAME: 'vcs.ref.head.name',
  VCS_REF_HEAD_REVISION: 'vcs.ref.head.revision',
  VCS_PROVIDER_NAME: 'vcs.provider.name',
  SECURITY_RULE_NAME: 'security_rule.name',
  SECURITY_RULE_CATEGORY: 'security_rule.category',
  SECURITY_RULE_DESCRIPTION: 'security_rule.description',
  SECURITY_RULE_REFERENCE: 'security_rule.reference',
  SECURITY_RULE_RULESET_NAME: 'security_rule.ruleset.name',
  SECURITY_RULE_VERSION: 'security_rule.version',
  SERVICE_NAME: 'service.name',
  SERVICE_VERSION: 'service.version',
} as const;

/** pastewatch's own keys (no semantic convention exists for these). */
export const PW = {
  SERVICE: 'pastewatch.service',
  CATEGORY: 'pastewatch.category',
  EVIDENCE: 'pastewatch.evidence',
  NAMES: 'pastewatch.names',
  ACTIVITY: 'pastewatch.activity',
  ENVIRONMENT: 'pastewatch.environment',
  RECOMMENDATION: 'pastewatch.recommendation',
  IMPORTANCE: 'pastewatch.importance',
  ATTACK_TACTIC_ID: 'pastewatch.attack.tactic.id',
  ATTACK_TACTIC_NAME: 'pastewatch.attack.tactic.name',
  ATTACK_TECHNIQUE_ID: 'pastewatch.attack.technique.id',
  ATTACK_TECHNIQUE_NAME: 'pastewatch.attack.technique.name',
  ATTACK_SUBTECHNIQUE_ID: 'pastewatch.attack.subtechnique.id',
  ATTACK_SUBTECHNIQUE_NAME: 'pastewatch.attack.subtechnique.name',
  COUNT: 'pastewatch.count',
  FIRST_SEEN: 'pastewatch.first_seen',
  LAST_SEEN: 'pastewatch.last_seen',
  BYTES_SENT: 'pastewatch.bytes.sent',
  BYTES_RECEIVED: 'pastewatch.bytes.received',
  PACKETS_SENT: 'pastewatch.packets.sent',
  PACKETS_RECEIVED: 'pastewatch.packets.received',
  BLOCKED: 'pastewatch.blocked',
  RECEIVER: 'pastewatch.receiver',
  TLS_ECH: 'pastewatch.tls.ech',
  TRACE_URL: 'pastewatch.trace.url',
  PROCESS_ANCESTRY: 'pastewatch.process.ancestry',
  DETECTION_ID: 'pastewatch.detection.id',
} as const;

/** The detection's fixed identity (Jibril's plaintext_communication, restated). */
export const RULE = {
  NAME: 'plaintext_communication',
  EVENT_NAME: 'plaintext_communication',
  CATEGORY: 'command_and_control',
  DESCRIPTION: 'access to pastebin services',
  RULESET: 'pastewatch',
  IMPORTANCE: 'critical',
  TACTIC_ID: 'TA0011',
  TACTIC_NAME: 'Command and Control',
  TECHNIQUE_ID: 'T1071',
  TECHNIQUE_NAME: 'Application Layer Protocol',
  SUBTECHNIQUE_ID: 'T1071.001',
  SUBTECHNIQUE_NAME: 'Web Protocols',
  REFERENCE: 'https://attack.mitre.org/techniques/T1071/001/',
} as const;
