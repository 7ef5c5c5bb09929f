/**
 * Reads PostgreSQL's `global/pg_control` without starting PostgreSQL, so that a damaged control
 * file is reported before PGlite opens the directory (PGlite answers a bad one with a bare
 * "Aborted()"). Hand-rolled: nothing on npm reads it, and only a few fixed fields are needed.
 *
 * Layout (src/include/catalog/pg_control.h, unchanged in these fields since PostgreSQL 11):
 * system_identifier u64 @0, pg_control_version u32 @8, catalog_version_no u32 @12, state u32 @16,
 * time i64 @24, checkPoint u64 @32, checkPointCopy.redo u64 @40, checkPointCopy.ThisTimeLineID
 * u32 @48; further on, the double 1234567.0 (float format check) is followed by blcksz,
 * relseg_size, xlog_blcksz and xlog_seg_size (u32 each). The file ends its data with a CRC-32C of
 * everything before it; its offset differs between versions, so it is found by trying each.
 */

export const PG_CONTROL_SIZE = 8192

/** DBState, the cluster's state when pg_control was last written. */
export const DB_STATES = [
  'starting up',
  'shut down',
  'shut down in recovery',
  'shutting down',
  'in crash recovery',
  'in archive recovery',
  'in production',
] as const

export interface PgControl {
  controlVersion: number
  catalogVersion: number
  state: (typeof DB_STATES)[number] | 'unknown'
  /** LSN of the latest checkpoint record, and where replay starts (its redo pointer). */
  checkpointLsn: bigint
  redoLsn: bigint
  timeline: number
  blockSize: number
  walSegmentSize: number
}

export type PgControlResult = { ok: true; control: PgControl } | { ok: false; reason: string }

export function parsePgControl(buf: Buffer): PgControlResult {
  if (buf.length !== PG_CONTROL_SIZE) {
    return {
      ok: false,
      reason: `is ${buf.length} bytes long instead of ${PG_CONTROL_SIZE} (truncated or overwritten)`,
    }
  }
  if (findCrcOffset(buf) === null) {
    return { ok: false, reason: 'fails its checksum (its contents were damaged or overwritten)' }
  }
  const floatAt = findFloatFormat(buf)
  if (floatAt === null) {
    return { ok: false, reason: 'has an unknown layout (no float format marker)' }
  }
  const stateIndex = buf.readUInt32LE(16)
  return {
    ok: true,
    control: {
      controlVersion: buf.readUInt32LE(8),
      catalogVersion: buf.readUInt32LE(12),
      state: DB_STATES[stateIndex] ?? 'unknown',
      checkpointLsn: buf.readBigUInt64LE(32),
      redoLsn: buf.readBigUInt64LE(40),
      timeline: buf.readUInt32LE(48),
      blockSize: buf.readUInt32LE(floatAt + 8),
      walSegmentSize: buf.readUInt32LE(floatAt + 20),
    },
  }
}

/** The WAL segment file name (24 hex digits) holding `lsn`. */
export function walSegmentName(timeline: number, lsn: bigint, segmentSize: number): string {
  const size = BigInt(segmentSize)
  const segNo = lsn / size
  const perId = 0x1_0000_0000n / size
  const hex = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0')
  return hex(timeline) + hex(segNo / perId) + hex(segNo % perId)
}

function findCrcOffset(buf: Buffer): number | null {
  // The CRC covers every byte before it; try each 4-byte-aligned end within the struct's range.
  let crc = 0xffffffff
  for (let end = 0; end + 4 <= 1024; end++) {
    if (end >= 64 && end % 4 === 0 && (crc ^ 0xffffffff) >>> 0 === buf.readUInt32LE(end)) {
      return end
    }
    crc = CRC32C_TABLE[(crc ^ buf[end]!) & 0xff]! ^ (crc >>> 8)
  }
  return null
}

function findFloatFormat(buf: Buffer): number | null {
  for (let at = 64; at + 24 <= 1024; at += 8) {
    if (buf.readDoubleLE(at) === 1234567.0) return at
  }
  return null
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[i] = c >>> 0
  }
  return table
})()

/** CRC-32C (Castagnoli), as PostgreSQL computes it. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
