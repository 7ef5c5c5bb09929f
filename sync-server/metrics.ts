import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** The server's Prometheus metrics, in a registry of its own (several servers in one process in tests). */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const buckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
  return {
    registry,
    connections: new Gauge({
      name: 'cmdai_sync_connections',
      help: 'Open WebSocket connections',
      registers: [registry],
    }),
    rooms: new Gauge({
      name: 'cmdai_sync_rooms',
      help: 'Documents loaded in memory',
      registers: [registry],
    }),
    updates: new Counter({
      name: 'cmdai_sync_updates_total',
      help: 'Document updates accepted and stored',
      registers: [registry],
    }),
    refusedWrites: new Counter({
      name: 'cmdai_sync_refused_writes_total',
      help: 'Writes refused (role, format)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'cmdai_sync_auth_failures_total',
      help: 'Connections and requests refused at sign-in',
      labelNames: ['reason'],
      registers: [registry],
    }),
    closes: new Counter({
      name: 'cmdai_sync_closes_total',
      help: 'Connections closed by the server, by close code',
      labelNames: ['code'],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'cmdai_sync_commit_seconds',
      help: 'Group commit latency (storage and audit in one transaction)',
      buckets,
      registers: [registry],
    }),
    auditRecords: new Counter({
      name: 'cmdai_sync_audit_records_total',
      help: 'Audit records appended',
      registers: [registry],
    }),
    commitFailures: new Counter({
      name: 'cmdai_sync_commit_failures_total',
      help: 'Group commits that failed (their changes were refused)',
      registers: [registry],
    }),
    loadSeconds: new Histogram({
      name: 'cmdai_sync_load_seconds',
      help: 'Time to load a document from storage',
      buckets,
      registers: [registry],
    }),
    events: new Counter({
      name: 'cmdai_sync_client_events_total',
      help: 'Client events received',
      labelNames: ['result'],
      registers: [registry],
    }),
    relayMessages: new Counter({
      name: 'cmdai_sync_relay_messages_total',
      help: 'Messages relayed through Redis',
      labelNames: ['direction'],
      registers: [registry],
    }),
  }
}

export type SyncMetrics = ReturnType<typeof createMetrics>
