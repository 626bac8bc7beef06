import { type ConfigArgs, locateSession, type Session } from "../app/session.ts";

/** backup.yaml as every command finds it; without one, first-run setup writes it (undefined: cancelled). */
export async function openSession(args: ConfigArgs): Promise<Session | undefined> {
  const { session, configFile } = locateSession(args);
  if (session) return session;
  const { firstRunSetup } = await import("./setup.ts");
  return firstRunSetup(args, configFile);
}
