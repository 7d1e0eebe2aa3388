// Certificates made with openssl for tests that speak TLS: a throwaway authority and a server
// certificate it signed.

/** Whether `name` runs and exits 0 with `args`. */
export async function hasCommand(name: string, args = ["--version"]): Promise<boolean> {
  try {
    return (await new Deno.Command(name, { args, stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

async function run(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/**
 * A test certificate authority in `dir` and a server certificate it signed for 127.0.0.1 and
 * localhost (rustls refuses a self-signed certificate used as its own authority).
 */
export async function makeCertificate(
  dir: string,
  name: string,
): Promise<{ cert: string; key: string; ca: string }> {
  const ca = `${dir}/${name}-ca.crt`;
  const caKey = `${dir}/${name}-ca.key`;
  const cert = `${dir}/${name}.crt`;
  const key = `${dir}/${name}.key`;
  const csr = `${dir}/${name}.csr`;
  const ext = `${dir}/${name}.ext`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    caKey,
    "-out",
    ca,
    "-days",
    "1",
    "-subj",
    `/CN=${name} test CA`,
  ]);
  await run(["req", "-new", ...ec, "-keyout", key, "-out", csr, "-subj", `/CN=${name}`]);
  await Deno.writeTextFile(
    ext,
    "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await run([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-out",
    cert,
    "-days",
    "1",
    "-extfile",
    ext,
  ]);
  return { cert, key, ca };
}
