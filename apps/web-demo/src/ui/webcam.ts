import type { ShownError } from './messages.js';

/** Webcam capture: start, grab frames as ImageBitmaps, stop. */
export class Webcam {
  private stream: MediaStream | undefined;

  constructor(private readonly video: HTMLVideoElement) {}

  get active(): boolean {
    return this.stream !== undefined;
  }

  async start(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw cameraError('this browser gives no camera access here', 'camera access needs https (or localhost) and a browser that supports it');
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (e) {
      const name = e instanceof DOMException ? e.name : '';
      if (name === 'NotAllowedError') throw cameraError('camera access was denied', 'allow the camera in the browser’s site settings and try again');
      if (name === 'NotFoundError' || name === 'OverconstrainedError') throw cameraError('no camera was found', 'connect a camera, or upload a photo instead');
      throw cameraError(`the camera could not be started (${e instanceof Error ? e.message : String(e)})`, 'close other apps that use the camera and try again');
    }
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play();
  }

  /** The current frame. */
  async capture(): Promise<ImageBitmap> {
    if (!this.stream || this.video.videoWidth === 0) throw cameraError('the camera is not running', 'press “Start webcam” first');
    return createImageBitmap(this.video);
  }

  stop(): void {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = undefined;
    this.video.srcObject = null;
    this.video.hidden = true;
  }
}

function cameraError(reason: string, hint: string): ShownError & Error {
  return Object.assign(new Error(reason), { code: 'E_CAMERA', reason, hint });
}
