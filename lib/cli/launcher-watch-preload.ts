/** `node --require` this into Node-RED: it stops when `vigie start` is gone (launcher-watch.ts). */
import { watchLauncher } from './launcher-watch';

watchLauncher();
