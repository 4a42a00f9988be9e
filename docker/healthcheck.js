// Container health: the Node-RED HTTP server answers and the Vigie nodes are loaded.
const port = process.env.VIGIE_PORT || '1880';
fetch(`http://127.0.0.1:${port}/vigie/health`, { signal: AbortSignal.timeout(4000) })
  .then(async (r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const body = await r.json();
    if (body.status !== 'ok') throw new Error(JSON.stringify(body));
    process.exit(0);
  })
  .catch((err) => {
    console.error(`unhealthy: ${err.message}`);
    process.exit(1);
  });
