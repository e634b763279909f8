import { execFileSync } from 'node:child_process';

let commit: { id: string; time?: string } | null | undefined;

/**
 * The git commit this process runs, for /actuator/info: `GIT_COMMIT` (set by the image build)
 * or, in a checkout, `git log -1`. Read once; absent → omitted.
 */
export function gitCommit(env: Readonly<Record<string, string | undefined>>): { id: string; time?: string } | null {
  if (commit !== undefined) return commit;
  if (env.GIT_COMMIT) {
    commit = { id: env.GIT_COMMIT.slice(0, 40) };
    return commit;
  }
  try {
    const [id, time] = execFileSync('git', ['log', '-1', '--format=%H %cI'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
    })
      .toString()
      .trim()
      .split(' ');
    commit = id ? { id, time } : null;
  } catch {
    commit = null;
  }
  return commit;
}
