/** What replaces a secret value in any text that leaves this module. */
export const MASK = "***";

/**
 * Replaces every occurrence of each secret value in `text` (and of its base64 form, as Docker
 * configs and Basic auth carry it, and of each line of a multi-line secret) with `***`. Longer secrets are masked first, so a secret that
 * contains another is masked whole. Empty secrets are ignored.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === "") continue;
    forms.add(secret);
    if (secret.trim() !== "" && secret.trim() !== secret) forms.add(secret.trim());
    forms.add(Buffer.from(secret).toString("base64"));
    // A multi-line secret (a PEM key) can surface one line at a time; its armour lines are public.
    if (secret.includes("\n")) {
      for (const line of secret.split("\n").map((l) => l.trim())) {
        if (line.length >= 8 && !line.startsWith("-----")) forms.add(line);
      }
    }
  }
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    out = out.replaceAll(form, MASK);
  }
  return out;
}
