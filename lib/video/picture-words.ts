// What the people watching are told when the live picture stops or cannot start, by reason
// code. The one table of these words: the relay sends them with the code (viewer-words.ts), and
// the console's widget bundles this file (ui/components/camera-words.js) to say them itself,
// never a server's text. No imports, so that the browser build can take it as it is.

/** Why a running picture stopped (the relay is reconnecting). */
export type InterruptionReason = 'not-responding' | 'interrupted' | 'refused-login' | 'no-stream';

/** Why a picture could not start (the view is closed). */
export type RefusalReason = 'busy' | 'too-many-views' | 'unknown-camera' | 'server';

export const INTERRUPTION_WORDS: Readonly<Record<InterruptionReason, string>> = {
  'not-responding': 'Camera not responding — reconnecting…',
  interrupted: 'Picture interrupted — reconnecting…',
  'refused-login': 'The camera refuses the video login — still trying; tell your administrator',
  'no-stream': 'The camera sends no usable video — still trying; tell your administrator',
};

export const REFUSAL_WORDS: Readonly<Record<RefusalReason, string>> = {
  busy: 'Too many live pictures are open: close another one, or ask your administrator to allow more',
  'too-many-views': 'Too many live pictures of this camera, or from this computer, are open: close another one',
  'unknown-camera': 'This camera is not configured in Node-RED',
  server: 'The live picture cannot start on the server: tell your administrator',
};
