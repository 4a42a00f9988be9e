/**
 * What the people watching are told when the picture stops or cannot start: operators'
 * words and a short code, never the source's address (not even with its credentials masked)
 * nor a path of the server. The technical message goes to the Node-RED log only.
 */
import { SourceError, SourceErrorCode } from './ffmpeg';
import { INTERRUPTION_WORDS, InterruptionReason, REFUSAL_WORDS, RefusalReason } from './picture-words';

export type { InterruptionReason, RefusalReason };

export interface ViewerNotice<R extends string> {
  reason: R;
  message: string;
}

/**
 * What viewers are told of each way a source fails. Typed by SourceErrorCode: a code added
 * there is refused by the compiler until it is given a reason here.
 */
const SOURCE_INTERRUPTIONS: Readonly<Record<SourceErrorCode, InterruptionReason>> = {
  timeout: 'not-responding',
  unreachable: 'not-responding',
  refused: 'not-responding',
  unauthorized: 'refused-login',
  forbidden: 'refused-login',
  'not-found': 'no-stream',
  'no-video': 'no-stream',
  'bad-url': 'no-stream',
  ended: 'interrupted',
  failed: 'interrupted',
};

/** The source of a relay failed (see SourceError codes): what a viewer is told. */
export function interruptionNotice(err: Error): ViewerNotice<InterruptionReason> {
  const code = err instanceof SourceError || typeof (err as { code?: unknown }).code === 'string' ? String((err as { code?: string }).code) : '';
  // Any other error (a camera that cannot be resolved now) reads as an interruption.
  const reason = Object.hasOwn(SOURCE_INTERRUPTIONS, code) ? SOURCE_INTERRUPTIONS[code as SourceErrorCode] : 'interrupted';
  return { reason, message: INTERRUPTION_WORDS[reason] };
}

export function refusalNotice(reason: RefusalReason): ViewerNotice<RefusalReason> {
  return { reason, message: REFUSAL_WORDS[reason] };
}
