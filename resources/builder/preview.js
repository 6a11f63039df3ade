// Preview: the current config runs in the Interpreter's preview mode, in a frame beside the
// editor. The Interpreter reads the config from sessionStorage (shared with same-origin frames)
// or asks for it with a 'cogflow:preview-ready' message; both are served here.

const PREVIEW_KEY = 'cogflow.preview.config';

export class Preview {
  constructor(frame) {
    this.frame = frame;
    this.config = null;
    this.count = 0;
    window.addEventListener('message', (e) => {
      if (e.origin !== location.origin || e.source !== frame.contentWindow) return;
      if (e.data && e.data.type === 'cogflow:preview-ready' && this.config) {
        frame.contentWindow.postMessage({ type: 'cogflow:preview-config', config: this.config }, location.origin);
      }
    });
  }

  start(config) {
    this.config = config;
    try {
      sessionStorage.setItem(PREVIEW_KEY, JSON.stringify(config));
    } catch { /* the message path still delivers it */ }
    this.count += 1;
    this.frame.src = `../interpreter/?preview=1&n=${this.count}`;
  }

  /** Run the same config again from its start. */
  restart() {
    if (this.config) this.start(this.config);
  }

  stop() {
    this.config = null;
    try { sessionStorage.removeItem(PREVIEW_KEY); } catch { /* nothing stored */ }
    this.frame.src = 'about:blank';
  }
}
