/**
 * What the people watching are told when the picture stops or cannot start: operators'
 * words and a short code, never the source's address (not even with its credentials masked)
 * nor a path of the server. The technical message goes to the Node-RED log only.
 */
import { SourceError } from './ffmpeg';
import { INTERRUPTION_WORDS, InterruptionReason, REFUSAL_WORDS, RefusalReason } from './picture-words';

export type { InterruptionReason, RefusalReason };

export interface ViewerNotice<R extends string> {
  reason: R;
  message: string;
}

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
  return { reason, message: INTERRUPTION_WORDS[reason] };
}

export function refusalNotice(reason: RefusalReason): ViewerNotice<RefusalReason> {
  return { reason, message: REFUSAL_WORDS[reason] };
}
