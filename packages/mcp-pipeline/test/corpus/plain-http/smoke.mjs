// The compose smoke: the running service greets by name. SMOKE_URL is where the pipeline put it.
const res = await fetch(new URL("/greet?name=corpus", process.env.SMOKE_URL));
const body = await res.json();
if (res.status !== 200 || body.greeting !== "hello, corpus") {
  console.error(`unexpected answer ${res.status}: ${JSON.stringify(body)}`);
  process.exit(1);
}
console.log("greeting ok");
