/** What replaces a secret value in reports. */
export const REDACTED = "***";

/**
 * Replaces every occurrence of each secret value with `***`: as given, trimmed, URL-encoded,
 * base64-encoded (as Docker configs and Basic auth carry it), and each line of a multi-line
 * secret (a PEM key can surface a line at a time; its armour lines are public). Longer forms are
 * replaced first, so a secret that contains another is not half-redacted. Empty and
 * whitespace-only values are ignored. The one redaction every report, log and message uses.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.trim() === "") continue;
    needles.add(secret);
    needles.add(secret.trim());
    needles.add(encodeURIComponent(secret));
    needles.add(Buffer.from(secret).toString("base64"));
    if (secret.includes("\n")) {
      for (const line of secret.split("\n").map((l) => l.trim())) {
        if (line.length >= 8 && !line.startsWith("-----")) needles.add(line);
      }
    }
  }
  let out = text;
  for (const needle of [...needles].toSorted((a, b) => b.length - a.length)) {
    out = out.split(needle).join(REDACTED);
  }
  return out;
}
