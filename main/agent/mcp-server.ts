import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import type { AgentClient } from '../../contract/agent'
import { toErrorEnvelope } from '../../contract/errors'
import { AppLink } from './app-link'
import type { LocalGeneration, McpContext, ToolDef } from './mcp-context'
import { TOOLS } from './mcp-tools'

export interface McpServerOptions {
  dataDir: string
  version: string
  /** Where commands run when the agent gives no cwd. */
  cwd: string
  /** How long run_command waits for the user's approval. */
  approvalTimeoutMs: number
}

const INSTRUCTIONS = `cmdai is the user's gate for shell commands. Before you run a shell command, check it with check_command, or run it with run_command: cmdai judges it with the same safety engine and team policy as the user's own commands, runs what is allowed, asks the user in the cmdai app for what needs confirmation, and refuses what is blocked. Everything you ask about or run is recorded in the user's history. Prefer the team's patterns (list_patterns) and the user's history (search_history) over inventing commands.`

/** JSON Schema for a tool's input or output, in the draft MCP clients validate with. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const out = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >
  delete out.$schema
  return out as { type: 'object'; [key: string]: unknown }
}

/**
 * `cmdai mcp`: the MCP server over stdio. Bad arguments and unknown tools are JSON-RPC errors
 * (InvalidParams); a tool that fails while doing its job answers `isError` with the reason.
 */
export function createMcpServer(options: McpServerOptions): {
  server: Server
  dispose(): Promise<void>
} {
  const server = new Server(
    { name: 'cmdai', version: options.version, title: 'cmdai command gate' },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  )
  const app = new AppLink(options.dataDir, { name: 'cmdai-mcp', version: options.version })
  let engine: Promise<import('../llm/engine').LlmEngine> | null = null

  const client = (): AgentClient => {
    const info = server.getClientVersion()
    const name = (info?.name ?? '').trim().slice(0, 200) || 'unknown-mcp-client'
    return info?.version ? { name, version: info.version.slice(0, 100) } : { name }
  }

  const ctx: McpContext = {
    dataDir: options.dataDir,
    client,
    app,
    defaultCwd: options.cwd,
    approvalTimeoutMs: options.approvalTimeoutMs,
    async generateLocally(request, cwd, signal): Promise<LocalGeneration> {
      engine ??= import('../llm/engine').then(
        ({ LlmEngine }) => new LlmEngine({ dataDir: options.dataDir, env: process.env }),
      )
      const result = await (
        await engine
      ).generate({ request, requestId: 'mcp', context: { cwd }, signal })
      return { ...result, model: result.model }
    },
  }

  const byName = new Map<string, ToolDef>(TOOLS.map((t) => [t.name, t]))

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: jsonSchema(t.input, 'input'),
      outputSchema: jsonSchema(t.output, 'output'),
      annotations: { title: t.title, ...t.annotations },
    })),
  }))

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = byName.get(request.params.name)
    if (!tool) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`)
    }
    const parsed = tool.input.safeParse(request.params.arguments ?? {})
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`)
        .join('; ')
      throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for ${tool.name}: ${issues}`)
    }
    const token = request.params._meta?.progressToken
    let progress = 0
    try {
      const result = await tool.run(parsed.data, ctx, {
        signal: extra.signal,
        progress(message) {
          if (token === undefined) return
          void extra
            .sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress: ++progress, message },
            })
            .catch(() => undefined)
        },
      })
      return {
        content: [{ type: 'text' as const, text: result.text }],
        structuredContent: result.structured,
        ...(result.isError ? { isError: true } : {}),
      }
    } catch (err) {
      const { code, message } = toErrorEnvelope(err)
      if (code === 'invalid_input') throw new McpError(ErrorCode.InvalidParams, message)
      return { content: [{ type: 'text' as const, text: `cmdai: ${message}` }], isError: true }
    }
  })

  return {
    server,
    async dispose() {
      app.close()
      const loaded = await engine?.catch(() => null)
      await loaded?.dispose()
    },
  }
}

/** Runs the server on stdin/stdout until the client goes away. */
export async function serveMcpOverStdio(options: McpServerOptions): Promise<void> {
  // stdout carries the protocol: anything else written there would corrupt it.
  console.log = console.error
  console.info = console.error
  const { server, dispose } = createMcpServer(options)
  const transport = new StdioServerTransport()
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve()
    process.stdin.once('end', () => resolve())
  })
  await server.connect(transport)
  await closed
  await server.close().catch(() => undefined)
  await dispose()
}
