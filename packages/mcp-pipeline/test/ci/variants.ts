import { contextVariant } from "./pipeline-harness.js";

// Dockerfile variants more than one test file builds: the project's Dockerfile with one defect,
// in a temporary build context (see contextVariant). Each returns the pipeline arguments.

/** `USER` names a user the image's /etc/passwd does not have. */
export function noSuchUser(): string[] {
  return contextVariant("no-such-user", (t) => t.replace("USER 1000:1000", "USER nosuchuser"));
}

/** `false` is the entrypoint: the container starts, and exits 1 at once. */
export function exitsAtOnce(): string[] {
  return contextVariant("exits-at-once", (t) =>
    t
      .replace(
        "cp /usr/local/bin/node /rootfs/usr/local/bin/node",
        "cp /usr/local/bin/node /rootfs/usr/local/bin/node && cp /bin/false /rootfs/usr/local/bin/false",
      )
      .replace('ENTRYPOINT ["/usr/local/bin/node"]', 'ENTRYPOINT ["/usr/local/bin/false"]'),
  );
}

/** A freshly generated EC private key at /app/deploy-key.pem. */
export function plantedKey(): string[] {
  return contextVariant("planted-key", (t) =>
    t.replace(
      " && chmod 1777 /rootfs/tmp",
      ` && node -e "require('fs').writeFileSync('/rootfs/app/deploy-key.pem', require('crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))" \\\n && chmod 1777 /rootfs/tmp`,
    ),
  );
}
