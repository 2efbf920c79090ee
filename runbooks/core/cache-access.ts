import { ModifyUserCommand } from '@aws-sdk/client-elasticache';
import { CACHE_ACCESS } from '../../lib/config/naming';
import type { RunbookDeps } from './env';
import { aws, parameter } from './step';

/**
 * Fence a region's cache, or lift the fence, through its regional control plane: `ModifyUser` sets
 * the access string of the RBAC user every platform client authenticates as. Fenced, the user can
 * neither authenticate nor run any command, on connections already open too; clients cannot undo
 * it (they hold no `ModifyUser`). Returns what was done, for the report.
 */
export async function setCacheAccess(deps: RunbookDeps, region: string, access: keyof typeof CACHE_ACCESS): Promise<string> {
  const userId = await parameter(deps, region, 'redis', 'application-user-id');
  await aws(region, () =>
    deps.clients.elasticache(region).send(new ModifyUserCommand({ UserId: userId, AccessString: CACHE_ACCESS[access] })),
  );
  return access === 'fenced'
    ? `cache user ${userId} in ${region} fenced: no login, no command`
    : `cache user ${userId} in ${region} given the application's access`;
}
