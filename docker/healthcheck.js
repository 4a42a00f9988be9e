// Container health: Node-RED answers, the Vigie nodes are loaded, every sensor's capture
// delivers audio, and no mic-capture or acoustic-classifier has failed (a configuration it
// cannot use, a model that cannot be loaded); a report "degraded" is unhealthy, naming the
// silent sensors and the failed nodes with why.
// `vigie start` leaves in $VIGIE_USER_DIR/.vigie-health.json the URL of <httpAdminRoot>vigie/admin-health
// and this run's token, which opens that route whatever httpNodeAuth and adminAuth are. Without
// the file (Node-RED started otherwise, or not started yet) it asks <httpNodeRoot>vigie/health on
// VIGIE_PORT, which httpNodeAuth refuses. With the editor off (httpAdminRoot false) the file
// names <httpNodeRoot>vigie/health at its real scheme and prefix, without a token.
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');

let target = { url: `http://127.0.0.1:${process.env.VIGIE_PORT || '1880'}/vigie/health` };
try {
  const written = JSON.parse(fs.readFileSync(path.join(process.env.VIGIE_USER_DIR || '/data', '.vigie-health.json'), 'utf8'));
  // A file of another shape (cut short, edited) is as good as none.
  if (written && typeof written.url === 'string' && /^https?:\/\//.test(written.url)) target = written;
} catch {
  /* not started by vigie start (yet) */
}

function unhealthy(why) {
  console.error(`unhealthy: ${why}`);
  process.exit(1);
}

const url = new URL(target.url);
const options = {
  headers: target.token ? { 'x-vigie-health-token': target.token } : {},
  timeout: 4000,
  // Node-RED's own certificate, asked on loopback: its name cannot match.
  rejectUnauthorized: false,
};
const req = (url.protocol === 'https:' ? https : http).get(url, options, (res) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (text += d));
  res.on('end', () => {
    if (res.statusCode === 401 && !target.token) {
      unhealthy(
        target.editorOff
          ? `HTTP 401 from ${url.pathname}: httpNodeAuth is set and the editor is off (httpAdminRoot false), which closes the route this check's token opens; set httpAdminRoot (adminAuth keeps the editor closed) or leave httpNodeAuth unset`
          : `HTTP 401 from ${url.pathname}: httpNodeAuth is set and Node-RED was not started by vigie start, which gives this check a token`,
      );
    }
    if (res.statusCode !== 200) unhealthy(`HTTP ${res.statusCode} from ${url.pathname}`);
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      unhealthy(`not JSON from ${url.pathname}`);
    }
    if (body.status === 'ok') process.exit(0);
    if (body.status === 'degraded' && (Array.isArray(body.noAudio) || Array.isArray(body.failed))) {
      const why = [];
      if (Array.isArray(body.noAudio) && body.noAudio.length) why.push(`no audio from ${body.noAudio.map((s) => `sensor ${s.sensor} for ${s.forS} s`).join(', ')}`);
      // A node that cannot work at all (a mic-capture with a configuration it cannot use, a model that cannot be loaded).
      for (const f of Array.isArray(body.failed) ? body.failed : []) {
        why.push(`${f.node} "${f.name || f.id}"${f.sensor ? ` (sensor ${f.sensor})` : ''} has failed for ${f.forS} s: ${String(f.reason).slice(0, 300)}`);
      }
      unhealthy(`degraded: ${why.join('; ')}`);
    }
    unhealthy(JSON.stringify(body).slice(0, 300));
  });
});
req.on('timeout', () => req.destroy(new Error('no answer within 4 s')));
req.on('error', (err) => unhealthy(err.message));
