import { multiselect } from "@clack/prompts";
import type { Service } from "../config/service-config.ts";
import { ask, out } from "./io.ts";

/**
 * A multiselect of every service, for setup and settings alike; those without data are shown
 * but cannot be chosen. Undefined: cancelled.
 */
export async function chooseServices(
  services: Service[],
  prompt: { message: string; chosen: string[]; noData: string },
): Promise<string[] | undefined> {
  return ask(
    multiselect({
      ...out,
      message: prompt.message,
      required: false,
      initialValues: prompt.chosen,
      options: services.map((s) => ({
        value: s.name,
        label: s.name,
        disabled: !s.hasData,
        hint: s.hasData ? s.volumes.map((v) => v.name).join(", ") || "its own backup script" : prompt.noData,
      })),
    }),
  );
}
