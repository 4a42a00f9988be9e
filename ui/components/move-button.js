// The console's move button, by camera state: its words and its tooltip. Which states get
// one is decided by the server's list (lib/alerts/camera-states.ts); a test checks that every
// state of that list has words here, and no other.

export const MOVE_BUTTON = {
    proposed: ['Move camera', 'Turn the proposed camera to this alert'],
    waiting: ['Take camera', 'Turn the busy camera to this alert now'],
    released: ['Look again', 'Turn a camera to this alert again (the one that looked here first)'],
    failed: ['Try camera again', 'Ask again for a camera to turn to this alert'],
    unavailable: ['Take camera', 'Turn a camera to this alert now, taking it from the alert it is on']
}
