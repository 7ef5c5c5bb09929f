import { gunzipSync, inflateSync } from 'node:zlib'

/**
 * Static decoders for the encodings commands use to hide a payload from a reader: base64, hex
 * dumps, backslash escapes (printf, echo -e, $'...'), character reversal and rotations (`tr`),
 * gzip. Each returns null when the input cannot be decoded, so the caller fails closed. Every
 * decoder is linear in its input and bounded in its output.
 */

/** Decoded payloads larger than this are not analysed (the caller rates them as opaque). */
export const MAX_DECODED = 64 * 1024

export function decodeBase64(text: string): string | null {
  const clean = text.replace(/\s+/g, '')
  if (!clean || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) return null
  const bytes = Buffer.from(clean.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (bytes.length === 0 || bytes.length > MAX_DECODED) return null
  return bytesToText(bytes)
}

export function decodeBase32(text: string): string | null {
  const clean = text.replace(/\s+/g, '').replace(/=+$/, '').toUpperCase()
  if (!clean || !/^[A-Z2-7]+$/.test(clean)) return null
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const c of clean) {
    value = (value << 5) | alphabet.indexOf(c)
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
    if (out.length > MAX_DECODED) return null
  }
  return bytesToText(Buffer.from(out))
}

/** `xxd -r -p` (plain hex) and `xxd -r` (the offset/hex/ASCII dump xxd writes). */
export function decodeHexDump(text: string, plain: boolean): string | null {
  let hex = ''
  if (plain) hex = text.replace(/[\s:]+/g, '')
  else {
    for (const line of text.split('\n')) {
      const m = /^\s*[0-9a-fA-F]+:\s*((?:[0-9a-fA-F]{2,4}\s?)+)/.exec(line)
      if (m) hex += m[1]!.replace(/\s+/g, '')
    }
  }
  hex = hex.replace(/^0x/i, '')
  if (!hex || hex.length % 2 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length / 2 > MAX_DECODED)
    return null
  return bytesToText(Buffer.from(hex, 'hex'))
}

/** What a NUL byte becomes in decoded text (the engine's own marker is NUL). */
const NUL_STANDIN = '\ue000'

export function gunzip(text: string | Buffer): string | null {
  const input =
    typeof text === 'string' ? Buffer.from(text.replaceAll(NUL_STANDIN, '\u0000'), 'latin1') : text
  for (const fn of [gunzipSync, inflateSync]) {
    try {
      return bytesToText(fn(input, { maxOutputLength: MAX_DECODED }))
    } catch {
      // not this format
    }
  }
  return null
}

/** `rev`: reverses the characters of each line. */
export function reverseLines(text: string): string {
  return text
    .split('\n')
    .map((l) => [...l].reverse().join(''))
    .join('\n')
}

/** Expands a `tr` set: ranges (`a-z`), escapes (`\n`, `\\`, octal) and classes (`[:lower:]`). */
export function trSet(spec: string): string[] | null {
  const out: string[] = []
  const classes: Record<string, string> = {
    lower: 'abcdefghijklmnopqrstuvwxyz',
    upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    digit: '0123456789',
    space: ' \t\n\r\f\v',
    blank: ' \t',
  }
  const chars: string[] = []
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!
    if (c === '[' && spec[i + 1] === ':') {
      const end = spec.indexOf(':]', i + 2)
      const name = end > 0 ? spec.slice(i + 2, end) : ''
      const members = classes[name]
      if (members === undefined) return null
      chars.push(...members)
      i = end + 1
      continue
    }
    if (c === '\\' && i + 1 < spec.length) {
      const n = spec[i + 1]!
      const oct = /^[0-7]{1,3}/.exec(spec.slice(i + 1))
      if (oct) {
        chars.push(String.fromCharCode(parseInt(oct[0], 8)))
        i += oct[0].length
        continue
      }
      chars.push(({ n: '\n', t: '\t', r: '\r', '\\': '\\' } as Record<string, string>)[n] ?? n)
      i++
      continue
    }
    chars.push(c)
  }
  for (let i = 0; i < chars.length; i++) {
    const a = chars[i]!
    if (chars[i + 1] === '-' && i + 2 < chars.length) {
      const from = a.charCodeAt(0)
      const to = chars[i + 2]!.charCodeAt(0)
      if (to < from || to - from > 255) return null
      for (let code = from; code <= to; code++) out.push(String.fromCharCode(code))
      i += 2
    } else out.push(a)
  }
  return out
}

/** `tr SET1 SET2` (translate) and `tr -d SET` (delete), as GNU tr does it. */
export function translate(text: string, set1: string, set2: string | null): string | null {
  const from = trSet(set1)
  if (!from) return null
  if (set2 === null) {
    const del = new Set(from)
    return [...text].filter((c) => !del.has(c)).join('')
  }
  const to = trSet(set2)
  if (!to || to.length === 0) return null
  const map = new Map<string, string>()
  for (let i = 0; i < from.length; i++) map.set(from[i]!, to[Math.min(i, to.length - 1)]!)
  let out = ''
  for (const c of text) out += map.get(c) ?? c
  return out
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
}

/**
 * Backslash escapes as `$'...'`, `printf` and `echo -e` read them. `style` picks the octal form:
 * `ansi` and `printf` take `\NNN`, `echo` takes `\0NNN`. `\c` ends the output for echo and %b.
 */
export function decodeEscapes(text: string, style: 'ansi' | 'printf' | 'echo'): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c !== '\\' || i + 1 >= text.length) {
      out += c
      continue
    }
    const rest = text.slice(i + 1, i + 12)
    let m: RegExpExecArray | null
    if ((m = /^x([0-9a-fA-F]{1,2})/.exec(rest))) {
      out += String.fromCharCode(parseInt(m[1]!, 16))
      i += m[0].length
    } else if ((m = /^u([0-9a-fA-F]{1,4})/.exec(rest)) || (m = /^U([0-9a-fA-F]{1,8})/.exec(rest))) {
      const cp = parseInt(m[1]!, 16)
      out += cp <= 0x10ffff ? String.fromCodePoint(cp) : ''
      i += m[0].length
    } else if (style === 'echo' && (m = /^0([0-7]{0,3})/.exec(rest))) {
      out += String.fromCharCode(parseInt(m[1] || '0', 8) & 0xff)
      i += m[0].length
    } else if (style !== 'echo' && (m = /^([0-7]{1,3})/.exec(rest))) {
      out += String.fromCharCode(parseInt(m[1]!, 8) & 0xff)
      i += m[0].length
    } else if (style === 'ansi' && (m = /^c(.)/s.exec(rest))) {
      out += String.fromCharCode(m[1]!.charCodeAt(0) & 0x1f)
      i += 2
    } else if (style !== 'ansi' && rest[0] === 'c') {
      return out
    } else if (SIMPLE_ESCAPES[rest[0]!] !== undefined) {
      out += SIMPLE_ESCAPES[rest[0]!]
      i++
    } else {
      out += style === 'ansi' ? rest[0] : '\\' + rest[0]
      i++
    }
  }
  return out
}

/** `printf FORMAT ARGS...`: %s, %b, %c, %d/%i/%x/%o and %%, reusing the format as POSIX does. */
export function printfFormat(format: string, args: string[]): string {
  let out = ''
  let argIndex = 0
  const once = (): string => {
    let s = ''
    for (let i = 0; i < format.length; i++) {
      const c = format[i]!
      if (c === '\\') {
        const m = /^\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|[0-7]{1,3}|.)/s.exec(format.slice(i))
        if (m) {
          s += decodeEscapes(m[0], 'printf')
          i += m[0].length - 1
          continue
        }
      }
      if (c !== '%') {
        s += c
        continue
      }
      const spec = /^%([-+ #0]*\d*(?:\.\d+)?)([sbcdiouxXeEfgG%])/.exec(format.slice(i))
      if (!spec) {
        s += c
        continue
      }
      i += spec[0].length - 1
      const conv = spec[2]!
      if (conv === '%') {
        s += '%'
        continue
      }
      const arg = args[argIndex++] ?? ''
      if (conv === 's') s += arg
      else if (conv === 'b') s += decodeEscapes(arg, 'echo')
      else if (conv === 'c') s += arg.slice(0, 1)
      else if (/[dioxXu]/.test(conv)) {
        const n = Number.parseInt(arg || '0', arg.startsWith('0x') ? 16 : 10)
        s += Number.isFinite(n)
          ? conv === 'x' || conv === 'X'
            ? n.toString(16)
            : conv === 'o'
              ? n.toString(8)
              : String(n)
          : '0'
      } else s += arg
    }
    return s
  }
  out += once()
  // POSIX printf reuses the format while arguments remain (bounded to keep this linear).
  for (let rounds = 0; argIndex > 0 && argIndex < args.length && rounds < 1000; rounds++)
    out += once()
  return out
}

/**
 * Bytes as text: UTF-16LE when it looks like it (PowerShell's encodings), UTF-8 when valid,
 * otherwise Latin-1 so every byte stays visible. NUL bytes become a private-use stand-in: the
 * engine uses NUL to mark values only known at run time.
 */
function bytesToText(bytes: Buffer): string {
  if (bytes.length >= 4 && bytes.length % 2 === 0) {
    // Mostly printable ASCII in the even bytes with zeros in the odd ones: UTF-16LE text.
    let utf16 = 0
    for (let i = 0; i + 1 < bytes.length; i += 2)
      if (bytes[i + 1] === 0 && bytes[i]! >= 0x09 && bytes[i]! < 0x7f) utf16++
    if (utf16 * 10 >= (bytes.length / 2) * 9)
      return bytes.toString('utf16le').replaceAll('\u0000', '')
  }
  const utf8 = bytes.toString('utf8')
  return (utf8.includes('\ufffd') ? bytes.toString('latin1') : utf8).replaceAll(
    '\u0000',
    NUL_STANDIN,
  )
}
