import { describe, expect, it } from 'vitest'
import type { Verdict } from '../../../contract'
import { assessPaste, chunkText, PASTE_CHECK_MAX_CHARS, preparePaste } from './paste'

const verdict = (action: Verdict['action'], risk: Verdict['risk'] = 'high'): Verdict => ({
  command: '',
  shell: 'bash',
  risk,
  action,
  reasons: [{ ruleId: 'fs.rm', risk, message: 'deletes files recursively', span: null }],
})

describe('preparePaste', () => {
  it('sends line breaks as Enter and brackets the text when the shell asked for it', () => {
    expect(preparePaste('a\nb\r\nc', false)).toBe('a\rb\rc')
    expect(preparePaste('ls\n', true)).toBe('\x1b[200~ls\r\x1b[201~')
  })

  it('removes bracket markers inside the text, so a paste cannot end the bracket early', () => {
    const hostile = 'echo hi\x1b[201~rm -rf ~\n\x1b[200~'
    const sent = preparePaste(hostile, true)
    expect(sent).toBe('\x1b[200~echo hirm -rf ~\r\x1b[201~')
    expect(sent.split('\x1b[201~')).toHaveLength(2)
  })
})

describe('chunkText', () => {
  it('splits 10 MB into pieces that join back to the same text', () => {
    const line = 'line of pasted text with ünïcödé and 🙂 emoji\n'
    const text = line.repeat(Math.ceil(10_000_000 / line.length))
    const started = performance.now()
    const chunks = chunkText(text, 32 * 1024)
    expect(performance.now() - started).toBeLessThan(2000)
    expect(chunks.join('')).toBe(text)
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(32 * 1024)
  })

  it('never cuts a surrogate pair', () => {
    const text = '🙂'.repeat(50)
    for (const size of [2, 3, 5, 7]) {
      const chunks = chunkText(text, size)
      expect(chunks.join('')).toBe(text)
      for (const chunk of chunks) expect(chunk.length % 2).toBe(0)
    }
    expect(() => chunkText('x', 1)).toThrow(/at least 2/)
    expect(chunkText('')).toEqual([])
  })
})

describe('assessPaste', () => {
  const never = () => Promise.reject(new Error('not called'))

  it('lets a single line through without a check', async () => {
    expect(await assessPaste('rm -rf ~', never)).toBeNull()
  })

  it('asks when the engine does not allow a multi-line paste, and says why', async () => {
    const risk = await assessPaste('cd /tmp\nrm -rf ~\n', async () => verdict('confirm'))
    expect(risk?.reason).toBe('High risk: deletes files recursively')
    expect(await assessPaste('ls\npwd\n', async () => verdict('allow', 'safe'))).toBeNull()
    expect(
      (await assessPaste('x\ny', async () => verdict('block', 'critical')))?.verdict?.risk,
    ).toBe('critical')
  })

  it('fails closed: a check that fails, or a paste too large to check, asks', async () => {
    const failed = await assessPaste('a\nb', () => Promise.reject(new Error('engine down')))
    expect(failed?.reason).toMatch(/could not be checked: engine down/)
    const big = 'echo x\n'.repeat(PASTE_CHECK_MAX_CHARS / 7 + 1)
    expect((await assessPaste(big, never))?.reason).toMatch(/too large to check/)
  })
})
