/**
 * What the people watching are told when the picture stops or cannot start: operators'
 * words and a short code, never the source's address (not even with its credentials masked)
 * nor a path of the server. The technical message goes to the Node-RED log only.
 */
import { SourceError } from './ffmpeg';

/** Why a running picture stopped (the relay is reconnecting). */
export type InterruptionReason = 'not-responding' | 'interrupted' | 'refused-login' | 'no-stream';

/** Why a picture could not start (the view is closed). */
export type RefusalReason = 'busy' | 'unknown-camera' | 'server';

export interface ViewerNotice<R extends string> {
  reason: R;
  message: string;
}

const INTERRUPTIONS: Record<InterruptionReason, string> = {
  'not-responding': 'Camera not responding — reconnecting…',
  interrupted: 'Picture interrupted — reconnecting…',
  'refused-login': 'The camera refuses the video login — still trying; tell your administrator',
  'no-stream': 'The camera sends no usable video — still trying; tell your administrator',
};

/** The source of a relay failed (see SourceError codes): what a viewer is told. */
export function interruptionNotice(err: Error): ViewerNotice<InterruptionReason> {
  const code = err instanceof SourceError || typeof (err as { code?: unknown }).code === 'string' ? String((err as { code?: string }).code) : '';
  let reason: InterruptionReason;
  switch (code) {
    case 'timeout':
    case 'unreachable':
    case 'refused':
      reason = 'not-responding';
      break;
    case 'unauthorized':
    case 'forbidden':
      reason = 'refused-login';
      break;
    case 'not-found':
    case 'no-video':
    case 'bad-url':
      reason = 'no-stream';
      break;
    default:
      // ended, an ffmpeg that stopped, a camera that cannot be resolved now
      reason = 'interrupted';
  }
  return { reason, message: INTERRUPTIONS[reason] };
}

const REFUSALS: Record<RefusalReason, string> = {
  busy: 'Too many live pictures are open: close another one, or ask your administrator to allow more',
  'unknown-camera': 'This camera is not configured in Node-RED',
  server: 'The live picture cannot start on the server: tell your administrator',
};

export function refusalNotice(reason: RefusalReason): ViewerNotice<RefusalReason> {
  return { reason, message: REFUSALS[reason] };
}
