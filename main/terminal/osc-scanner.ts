const ESC = '\x1b'
const BEL = '\x07'
/** OSC payloads longer than this are dropped: they are not ours and must not grow memory. */
const MAX_OSC_LENGTH = 64 * 1024

/**
 * Finds OSC sequences (`ESC ] ... BEL` or `ESC ] ... ESC \`) in a stream of terminal output that
 * arrives in arbitrary chunks. It only observes: the output itself is passed on untouched.
 */
export class OscScanner {
  private state: 'text' | 'esc' | 'osc' | 'osc-esc' = 'text'
  private payload = ''
  private overflow = false

  constructor(private readonly onOsc: (payload: string) => void) {}

  push(chunk: string): void {
    let i = 0
    const n = chunk.length
    while (i < n) {
      if (this.state === 'text') {
        const next = chunk.indexOf(ESC, i)
        if (next === -1) return
        this.state = 'esc'
        i = next + 1
        continue
      }
      const ch = chunk[i]!
      if (this.state === 'esc') {
        if (ch === ']') {
          this.state = 'osc'
          this.payload = ''
          this.overflow = false
        } else {
          this.state = ch === ESC ? 'esc' : 'text'
        }
        i++
        continue
      }
      if (this.state === 'osc') {
        // Copy up to the next terminator in one slice rather than char by char.
        let j = i
        while (j < n && chunk[j] !== BEL && chunk[j] !== ESC) j++
        this.append(chunk.slice(i, j))
        if (j === n) return
        if (chunk[j] === BEL) this.finish()
        else this.state = 'osc-esc'
        i = j + 1
        continue
      }
      // osc-esc: ESC \ terminates; anything else aborts the sequence (as a terminal would).
      if (ch === '\\') {
        this.finish()
        i++
      } else {
        this.state = 'esc'
      }
    }
  }

  private append(text: string): void {
    if (this.overflow) return
    if (this.payload.length + text.length > MAX_OSC_LENGTH) {
      this.overflow = true
      this.payload = ''
      return
    }
    this.payload += text
  }

  private finish(): void {
    const payload = this.payload
    const overflow = this.overflow
    this.state = 'text'
    this.payload = ''
    this.overflow = false
    if (!overflow) this.onOsc(payload)
  }
}
