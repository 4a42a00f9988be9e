// Run by start.sh before Node-RED: usage node old-packages.js USER_DIR NODE_RED_HOME
//
// The first image installed Vigie and Dashboard 2.0 with npm into the user directory, the
// /data volume. Node-RED prefers a package in <user dir>/node_modules to the same package in
// the node_modules beside Node-RED, so such a volume would keep running its old Vigie under a
// new image. This moves what that image installed aside, once, and says so. A Vigie that was
// installed into the user directory some other way (palette manager, npm) is left in place,
// with a warning that it is the one Node-RED loads.
'use strict';
const fs = require('fs');
const path = require('path');

const VIGIE = 'node-red-dashboard-2-vigie';
const DASHBOARD = '@flowfuse/node-red-dashboard';
// What the first image's install.sh wrote into /data/package.json for the tarball it copied to
// /opt/vigie/vigie.tgz (npm saves the path relative to /data).
const OLD_IMAGE_TARBALL = /^file:(\/|(\.\.\/)+)opt\/vigie\/vigie\.tgz$/;
const ASIDE = 'old-image-packages';

const [userDir, nodeRedHome] = process.argv.slice(2);
if (!userDir || !nodeRedHome) {
  console.error('usage: node old-packages.js USER_DIR NODE_RED_HOME');
  process.exit(2);
}

const readJson = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};
const versionIn = (dir) => readJson(path.join(dir, 'package.json'))?.version ?? 'of unknown version';

const inData = path.join(userDir, 'node_modules', VIGIE);
let stat;
try {
  stat = fs.lstatSync(inData);
} catch {
  process.exit(0); // no Vigie in the volume: Node-RED loads the image's
}
// `vigie start` links the image's copy into the user directory for Dashboard 2.0's widget lookup.
if (stat.isSymbolicLink()) process.exit(0);

const pkgFile = path.join(userDir, 'package.json');
const pkg = readJson(pkgFile) ?? {};
const deps = pkg.dependencies ?? {};
const dataVersion = versionIn(inData);
const imageVersion = versionIn(path.join(nodeRedHome, 'node_modules', VIGIE));

if (!OLD_IMAGE_TARBALL.test(String(deps[VIGIE]))) {
  console.error(
    `vigie: ${inData} (Vigie ${dataVersion}) was installed into the data directory by the palette manager or npm; ` +
      `Node-RED loads it, not the image's Vigie ${imageVersion}. To run the image's, remove it ` +
      `(palette manager: Remove, or npm uninstall ${VIGIE} in ${userDir}) and restart.`,
  );
  process.exit(0);
}

// The first image installed both with npm's default "^" prefix; the palette manager saves "~".
const fromImage = [VIGIE, ...(String(deps[DASHBOARD]).startsWith('^') ? [DASHBOARD] : [])];
const others = Object.keys(deps).filter((d) => !fromImage.includes(d));
let aside = path.join(userDir, ASIDE);
for (let n = 2; fs.existsSync(aside); n++) aside = path.join(userDir, `${ASIDE}-${n}`);
try {
  moveAside();
} catch (err) {
  console.error(
    `vigie: ${userDir} was made by an earlier image, whose Vigie ${dataVersion} Node-RED would load instead of the ` +
      `image's (Vigie ${imageVersion}), and moving it to ${aside} failed: ${err.message}. ` +
      `Move ${path.join(userDir, 'node_modules')}, package.json and package-lock.json out of ${userDir} by hand.`,
  );
  process.exit(1);
}

function moveAside() {
  fs.mkdirSync(aside);
  if (others.length === 0) {
    // Everything in node_modules came from the image: move it all, with the files npm keeps about it.
    for (const f of ['node_modules', 'package.json', 'package-lock.json']) {
      if (fs.existsSync(path.join(userDir, f))) fs.renameSync(path.join(userDir, f), path.join(aside, f));
    }
    return;
  }
  // Nodes installed from the palette stay; only the image's packages go.
  fs.copyFileSync(pkgFile, path.join(aside, 'package.json'));
  for (const name of fromImage) {
    const from = path.join(userDir, 'node_modules', name);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(path.join(aside, 'node_modules', name)), { recursive: true });
    fs.renameSync(from, path.join(aside, 'node_modules', name));
    delete deps[name];
  }
  fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + '\n');
}

console.log(
  `vigie: ${userDir} was made by an earlier image, which installed Vigie ${dataVersion}` +
    `${fromImage.includes(DASHBOARD) ? ' and Dashboard 2.0' : ''} into it; Node-RED would have loaded ` +
    `${fromImage.length > 1 ? 'them' : 'it'} instead of the image's (Vigie ${imageVersion}). ` +
    `Moved to ${aside}; flows, credentials, settings, the audit log, alerts and outboxes are untouched. ` +
    (others.length === 0
      ? 'Delete that directory to free its space.'
      : `Delete that directory to free its space; the dependencies of the moved packages stay in ` +
        `${path.join(userDir, 'node_modules')} until "npm prune --omit=dev" is run in ${userDir}.`),
);
