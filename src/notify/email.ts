/** Email through the user's SMTP server, with nodemailer (loaded only when an email is sent). */
import nodemailer from "nodemailer";
import type { EmailTarget } from "../config/notify-target.ts";
import type { NotifyEvent } from "./event.ts";
import { DeliveryError, secretOf } from "./http-send.ts";

export async function sendEmail(target: EmailTarget, event: NotifyEvent, timeoutMs: number): Promise<void> {
  const pass = await secretOf(target.passwordFile);
  const transport = nodemailer.createTransport({
    host: target.host,
    port: target.port,
    secure: target.encryption === "implicit" || (target.encryption === "auto" && target.port === 465),
    requireTLS: target.encryption === "starttls",
    ignoreTLS: target.encryption === "none",
    auth: target.user === undefined ? undefined : { user: target.user, pass },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: target.from, to: target.to, subject: event.title, text: event.text });
  } catch (e) {
    const { code, responseCode } = e as { code?: string; responseCode?: number };
    // The server's own reply text may quote what we sent; the code says enough.
    const reply = responseCode ? ` (${responseCode})` : "";
    const answered = responseCode ? `answered ${responseCode}` : "cannot deliver";
    const why = code === "EAUTH" ? `refused the login${reply}` : answered;
    // SMTP's 5xx are final: a refused login tried again could get the account locked.
    throw new DeliveryError(why, responseCode === undefined || responseCode < 500);
  } finally {
    transport.close();
  }
}
