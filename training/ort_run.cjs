// Runs an ONNX model with onnxruntime-node (the runtime Vigie ships with) on float32 input
// read from stdin, and writes the float32 output to stdout. Used by the training pipeline to
// prove that the exported file loads and matches PyTorch.
//   node training/ort_run.cjs MODEL.onnx BATCH SAMPLES < input.f32 > output.f32
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, batchArg, samplesArg] = process.argv.slice(2);
  const batch = Number(batchArg);
  const samples = Number(samplesArg);
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const buf = Buffer.concat(chunks);
  if (buf.length !== batch * samples * 4) throw new Error(`stdin: expected ${batch * samples * 4} bytes, got ${buf.length}`);
  const input = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [batch, samples]) };
  const out = await session.run(feeds);
  const t = out[session.outputNames[0]];
  process.stderr.write(JSON.stringify({ inputNames: session.inputNames, outputNames: session.outputNames, dims: t.dims }) + '\n');
  process.stdout.write(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  await session.release();
}
main().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
