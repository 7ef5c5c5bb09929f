import { CmdaiError } from '../../contract/errors'
import {
  ELEVATION_PATHS,
  IDENTITY_PATHS,
  elevationSchema,
  identityViewSchema,
  type Elevation,
  type ElevationRequest,
  type IdentityView,
} from '../../contract/identity'
import { call, type TeamEndpoint } from './team-http'

/**
 * The server's identity and elevation endpoints as the app and the CLI use them, each answer
 * validated (`contract/identity.ts`).
 */
function elevation(value: unknown): Elevation {
  const parsed = elevationSchema.safeParse(value)
  if (!parsed.success) throw new CmdaiError('internal', 'Team server: malformed elevation')
  return parsed.data
}

export async function whoAmI(endpoint: TeamEndpoint): Promise<IdentityView> {
  const parsed = identityViewSchema.safeParse(await call(endpoint, 'GET', IDENTITY_PATHS.me))
  if (!parsed.success) throw new CmdaiError('internal', 'Team server: malformed identity')
  return parsed.data
}

export async function requestElevation(
  endpoint: TeamEndpoint,
  body: ElevationRequest,
): Promise<Elevation> {
  return elevation(await call(endpoint, 'POST', ELEVATION_PATHS.list, body))
}

export async function getElevation(
  endpoint: TeamEndpoint,
  id: string,
  waitMs = 0,
  signal?: AbortSignal,
): Promise<Elevation> {
  const path = `${ELEVATION_PATHS.list}/${encodeURIComponent(id)}${waitMs > 0 ? `?wait=${Math.round(waitMs)}` : ''}`
  return elevation(
    await call(endpoint, 'GET', path, undefined, { timeoutMs: waitMs + 15_000, signal }),
  )
}

export async function listElevations(endpoint: TeamEndpoint): Promise<Elevation[]> {
  const r = await call<{ elevations?: unknown }>(endpoint, 'GET', ELEVATION_PATHS.list)
  if (!Array.isArray(r?.elevations))
    throw new CmdaiError('internal', 'Team server: unexpected answer')
  return r.elevations.map(elevation)
}

export async function endElevation(endpoint: TeamEndpoint, id: string): Promise<Elevation> {
  return elevation(
    await call(endpoint, 'POST', `${ELEVATION_PATHS.list}/${encodeURIComponent(id)}/end`, {}),
  )
}
