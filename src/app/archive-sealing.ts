import { identityToRecipient } from "age-encryption";
import { AGE_FORMAT, type ArchiveEncryption } from "../archive/manifest.ts";
import { type EncryptionConfig, readIdentities } from "../config/encryption-config.ts";
import { newHeader, type OpeningKeys, type Sealed, type SealingKeys } from "../encryption/age-header.ts";

/** How new archives are sealed, and the public keys their manifests record (none for a passphrase). */
export async function sealingKeys(enc: EncryptionConfig): Promise<{ keys: SealingKeys; recipients: string[] }> {
  if (enc.recipients.length > 0) return { keys: { recipients: enc.recipients }, recipients: enc.recipients };
  if (enc.passphrase !== undefined) return { keys: { passphrase: enc.passphrase }, recipients: [] };
  // Only identities: sealed for their own public keys, as `age -e -i` does.
  const recipients = await Promise.all(openingKeys(enc).identities.map(identityToRecipient));
  return { keys: { recipients }, recipients };
}

/** What opens an archive: every identity file read now (each a ConfigError when unusable), and the passphrase. */
export function openingKeys(enc: EncryptionConfig | undefined): OpeningKeys {
  if (!enc) return { identities: [] };
  return {
    identities: enc.identities.flatMap(({ file, at }) => readIdentities(file, at)),
    passphrase: enc.passphrase,
  };
}

/** A new archive's age header and file key, and what its manifest says of them. */
export interface ArchiveSealing {
  sealed: Sealed;
  entry: ArchiveEncryption;
}

/** Drawn once per archive, before any container stops: a passphrase's key derivation takes a while. */
export async function newSealing(enc: EncryptionConfig | undefined): Promise<ArchiveSealing | undefined> {
  if (!enc) return undefined;
  const { keys, recipients } = await sealingKeys(enc);
  const entry: ArchiveEncryption = { format: AGE_FORMAT, recipients, passphrase: "passphrase" in keys };
  return { sealed: await newHeader(keys), entry };
}
