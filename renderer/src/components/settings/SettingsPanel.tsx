import { useEffect, useState, type ReactNode } from 'react'
import {
  settingsPatchSchema,
  type Settings,
  type SettingsPatch,
} from '../../../../contract/settings'
import {
  SHORTCUT_LABELS,
  shortcutProblem,
  type ShortcutAction,
} from '../../../../contract/shortcuts'
import { errorMessage, type Api } from '../../api/client'
import { useSettings } from '../../hooks/use-settings'
import { Dialog } from './Dialog'
import { CheckboxSetting, RadioSetting, SelectSetting, TextSetting } from './fields'

export type SettingsSection =
  'safety' | 'terminal' | 'appearance' | 'shortcuts' | 'models' | 'privacy' | 'data'

interface Props {
  api: Api
  onClose(): void
  /** Opens the model manager (the panel stays as it is; the caller decides whether to close it). */
  onOpenModels(): void
  /** Scrolls to this section when the panel opens (e.g. `privacy` from the model manager). */
  initialSection?: SettingsSection
}

/** What each safety level confirms and blocks: main/safety/policy.ts LEVEL_ACTIONS in words. */
export const SAFETY_LEVEL_TEXT = {
  strict: 'Asks before anything that is not safe (moderate and high risk); blocks critical.',
  moderate: 'Runs safe and moderate commands; asks before high-risk ones; blocks critical.',
  permissive: 'Runs safe, moderate and high-risk commands without asking; still blocks critical.',
} as const

const SHORTCUTS = Object.entries(SHORTCUT_LABELS) as Array<[ShortcutAction, string]>

const CONTEXT_ITEMS = [
  ['cwd', 'Current directory'],
  ['git', 'Git branch and status'],
  ['fileNames', 'File names in the current directory'],
  ['recentCommands', 'Recent commands'],
] as const

type Status = 'idle' | 'saving' | 'saved' | 'failed'

/** Settings, saved field by field through settings:update; refused values stay with their error. */
export function SettingsPanel({ api, onClose, onOpenModels, initialSection }: Props) {
  const { snapshot, error: loadError, update } = useSettings(api)
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [status, setStatus] = useState<Status>('idle')

  useEffect(() => {
    if (!initialSection || !snapshot) return
    document.getElementById(`cm-settings-${initialSection}`)?.scrollIntoView?.({ block: 'start' })
  }, [initialSection, snapshot])

  const fail = (field: string, message: string) => {
    setErrors((e) => ({ ...e, [field]: message }))
    setStatus('failed')
  }

  /** Checks the patch as main will (the schema's own sentences) before sending it. */
  const save = async (field: string, patch: SettingsPatch) => {
    const parsed = settingsPatchSchema.safeParse(patch)
    if (!parsed.success) return fail(field, parsed.error.issues[0]?.message ?? 'Not a valid value')
    setStatus('saving')
    try {
      await update(patch)
      setErrors(({ [field]: _, ...rest }) => rest)
      setStatus('saved')
    } catch (err) {
      fail(field, errorMessage(err))
    }
  }

  const saveNumber = (field: string, text: string, toPatch: (n: number) => SettingsPatch) => {
    const trimmed = text.trim()
    // Not a number at all: the schema's sentence for the field says what it wants.
    void save(field, toPatch(/^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN))
  }

  const saveShortcut = (key: ShortcutAction, text: string) => {
    const field = `shortcuts.${key}`
    const shortcut = text.trim()
    const syntax = settingsPatchSchema.safeParse({ shortcuts: { [key]: shortcut } })
    if (!syntax.success) return fail(field, syntax.error.issues[0]?.message ?? 'Not a shortcut')
    const problem = snapshot && shortcutProblem(key, shortcut, snapshot.settings.shortcuts)
    if (problem) return fail(field, problem)
    void save(field, { shortcuts: { [key]: shortcut } })
  }

  const s: Settings | undefined = snapshot?.settings
  return (
    <Dialog title="Settings" onClose={onClose} className="cm-settings">
      <p className="cm-status" role="status" aria-live="polite">
        {status === 'saving' && 'Saving…'}
        {status === 'saved' && 'Saved'}
        {status === 'failed' && 'Not saved: see the message under the field'}
      </p>
      {loadError && (
        <p className="cm-error" role="alert">
          Could not load settings: {loadError}
        </p>
      )}
      {!s && !loadError && <p className="cm-muted">Loading…</p>}
      {s && snapshot && (
        <>
          <Section id="safety" title="Safety">
            <RadioSetting
              label="Safety level"
              name="cm-safety-level"
              value={s.safety.level}
              hint="The default for each risk. Policy rules (yours or your team's) can override it, and the suggestion card names the policy that applied."
              error={errors['safety.level']}
              options={(['strict', 'moderate', 'permissive'] as const).map((level) => ({
                value: level,
                label: level[0]!.toUpperCase() + level.slice(1),
                description: SAFETY_LEVEL_TEXT[level],
              }))}
              onChange={(level) => void save('safety.level', { safety: { level } })}
            />
          </Section>

          <Section id="terminal" title="Terminal">
            <TextSetting
              label="Shell"
              mono
              value={s.terminal.shell}
              placeholder="the login shell"
              hint="A path such as /bin/zsh or a name such as fish; empty uses the login shell. Applies to new tabs; checked when saved."
              error={errors['terminal.shell']}
              onCommit={(shell) =>
                void save('terminal.shell', { terminal: { shell: shell.trim() } })
              }
            />
            <TextSetting
              label="Start directory"
              mono
              value={s.terminal.startDirectory}
              placeholder="the home directory"
              hint="An absolute path or ~/…, checked when saved; empty uses the home directory."
              error={errors['terminal.startDirectory']}
              onCommit={(dir) =>
                void save('terminal.startDirectory', { terminal: { startDirectory: dir.trim() } })
              }
            />
            <SelectSetting
              label="GPU acceleration"
              value={s.terminal.gpuAcceleration}
              options={[
                { value: 'auto', label: 'Automatic' },
                { value: 'off', label: 'Off' },
              ]}
              hint="Turn off if the terminal draws incorrectly."
              error={errors['terminal.gpuAcceleration']}
              onChange={(gpuAcceleration) =>
                void save('terminal.gpuAcceleration', { terminal: { gpuAcceleration } })
              }
            />
            <TextSetting
              label="Scrollback lines"
              inputMode="numeric"
              value={String(s.terminal.scrollback)}
              hint="100 to 200,000 lines per tab."
              error={errors['terminal.scrollback']}
              onCommit={(text) =>
                saveNumber('terminal.scrollback', text, (scrollback) => ({
                  terminal: { scrollback },
                }))
              }
            />
            <CheckboxSetting
              label="Restore tabs on start"
              checked={s.terminal.restoreTabs}
              hint="Each tab's shell, directory, title and scrollback come back when cmdai starts again (secrets redacted)."
              error={errors['terminal.restoreTabs']}
              onChange={(restoreTabs) =>
                void save('terminal.restoreTabs', { terminal: { restoreTabs } })
              }
            />
            <TextSetting
              label="Keep shells after the page closes (minutes)"
              inputMode="numeric"
              value={String(s.terminal.reconnectGraceMinutes)}
              hint="Browser mode: a reloaded or reconnected page finds its shells still running for this long; 0 ends them at once."
              error={errors['terminal.reconnectGraceMinutes']}
              onCommit={(text) =>
                saveNumber('terminal.reconnectGraceMinutes', text, (reconnectGraceMinutes) => ({
                  terminal: { reconnectGraceMinutes },
                }))
              }
            />
          </Section>

          <Section id="appearance" title="Appearance">
            <SelectSetting
              label="Theme"
              value={s.appearance.theme}
              options={[
                { value: 'system', label: 'Follow the system' },
                { value: 'light', label: 'Light' },
                { value: 'dark', label: 'Dark' },
              ]}
              error={errors['appearance.theme']}
              onChange={(theme) => void save('appearance.theme', { appearance: { theme } })}
            />
            <TextSetting
              label="Font size"
              inputMode="numeric"
              value={String(s.appearance.fontSize)}
              hint="8 to 32 pixels."
              error={errors['appearance.fontSize']}
              onCommit={(text) =>
                saveNumber('appearance.fontSize', text, (fontSize) => ({
                  appearance: { fontSize },
                }))
              }
            />
            <TextSetting
              label="Terminal font family"
              value={s.appearance.fontFamily}
              placeholder="the default monospace font"
              hint="A CSS font list, e.g. 'JetBrains Mono', monospace."
              error={errors['appearance.fontFamily']}
              onCommit={(fontFamily) =>
                void save('appearance.fontFamily', {
                  appearance: { fontFamily: fontFamily.trim() },
                })
              }
            />
          </Section>

          <Section id="shortcuts" title="Keyboard shortcuts">
            <p className="cm-hint">
              Written like Mod+K or Ctrl+Shift+E. Mod is Cmd on macOS and Ctrl elsewhere.
            </p>
            {SHORTCUTS.map(([key, label]) => (
              <TextSetting
                key={key}
                label={label}
                mono
                value={s.shortcuts[key]}
                error={errors[`shortcuts.${key}`]}
                onCommit={(text) => saveShortcut(key, text)}
              />
            ))}
          </Section>

          <Section id="models" title="Model & backend">
            <p className="cm-hint">
              Download, import and choose models, and pick the in-process model or an
              OpenAI-compatible endpoint, in the model manager.
            </p>
            <button type="button" onClick={onOpenModels}>
              Open the model manager
            </button>
          </Section>

          <Section id="privacy" title="Privacy">
            <CheckboxSetting
              label="Allow remote (OpenAI-compatible) backends"
              checked={s.privacy.allowRemoteBackends}
              error={errors['privacy.allowRemoteBackends']}
              hint={
                <span className="cm-warn">
                  When a remote backend is in use, every request you type and the context chosen
                  below leave this machine and go to that endpoint. Off by default; the in-process
                  model never sends anything anywhere.
                </span>
              }
              onChange={(allowRemoteBackends) =>
                void save('privacy.allowRemoteBackends', { privacy: { allowRemoteBackends } })
              }
            />
            <fieldset className="cm-fieldset">
              <legend>Context a remote backend may receive</legend>
              {CONTEXT_ITEMS.map(([key, label]) => (
                <CheckboxSetting
                  key={key}
                  label={label}
                  checked={s.privacy.remoteContext[key]}
                  error={errors[`privacy.remoteContext.${key}`]}
                  onChange={(checked) =>
                    void save(`privacy.remoteContext.${key}`, {
                      privacy: { remoteContext: { ...s.privacy.remoteContext, [key]: checked } },
                    })
                  }
                />
              ))}
              <p className="cm-hint">
                Secrets are redacted before any prompt is built. The local model always sees the
                full context.
              </p>
            </fieldset>
            <CheckboxSetting
              label="Allow exporting AI requests as training data"
              checked={s.privacy.trainingExport}
              error={errors['privacy.trainingExport']}
              hint={
                <>
                  Lets <code>cmdai history export --format training</code> write the requests you
                  ran, edited, cancelled or blocked as fine-tuning examples (secrets redacted; see
                  them first with <code>--preview</code>). Nothing is sent anywhere. Off by default.
                </>
              }
              onChange={(trainingExport) =>
                void save('privacy.trainingExport', { privacy: { trainingExport } })
              }
            />
          </Section>

          <Section id="data" title="Data location">
            <ReadOnly label="Data folder" value={snapshot.dataDir} />
            <ReadOnly label="Settings file" value={snapshot.path} />
            <p className="cm-hint">
              Models, history and settings live in the data folder. To use another folder, start
              cmdai with the environment variable <code>CMDAI_DATA_DIR</code> set to it, e.g.{' '}
              <code>CMDAI_DATA_DIR=/path/to/data cmdai serve</code>. It cannot be changed from here
              while cmdai is running.
            </p>
          </Section>
        </>
      )}
    </Dialog>
  )
}

function Section({
  id,
  title,
  children,
}: {
  id: SettingsSection
  title: string
  children: ReactNode
}) {
  return (
    <section
      id={`cm-settings-${id}`}
      className="cm-section"
      aria-labelledby={`cm-settings-${id}-h`}
    >
      <h3 id={`cm-settings-${id}-h`}>{title}</h3>
      {children}
    </section>
  )
}

function ReadOnly({ label, value }: { label: string; value: string }) {
  const id = `cm-ro-${label.replace(/\W+/g, '-').toLowerCase()}`
  return (
    <div className="cm-field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="text" className="cm-mono" readOnly value={value} />
    </div>
  )
}
