import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FrameHandler, type Link, LinkError, type LinkErrorHandler } from '../link/link.ts';
import { MemoryHub } from '../link/memory.ts';
import { LinkSlot } from './link-slot.ts';

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('LinkSlot', () => {
  it('forwards frames both ways and keeps its handler across swaps', async () => {
    const hub = new MemoryHub();
    const peer = hub.port('peer');
    const seenByPeer: number[] = [];
    peer.onFrame((frame) => seenByPeer.push(frame[0]!));
    const slot = new LinkSlot('vx0');
    const received: number[] = [];
    slot.onFrame((frame) => received.push(frame[0]!));

    slot.send(Uint8Array.of(1));
    assert.equal(slot.sentWhileEmpty, 1, 'an empty slot drops and counts');
    assert.equal(slot.name, 'vx0 (no link)');

    const first = hub.port('first');
    slot.replace(first);
    assert.equal(slot.name, first.name);
    slot.send(Uint8Array.of(2));
    peer.send(Uint8Array.of(3));
    await settle();

    const second = hub.port('second');
    const previous = slot.replace(second);
    assert.equal(previous, first);
    await previous?.close();
    peer.send(Uint8Array.of(4));
    slot.send(Uint8Array.of(5));
    await settle();

    assert.deepEqual(received, [3, 4], 'frames from whichever link is in the slot');
    assert.deepEqual(seenByPeer, [2, 5]);
    await slot.close();
    assert.equal(slot.current, undefined);
    peer.send(Uint8Array.of(6));
    await settle();
    assert.deepEqual(received, [3, 4], 'nothing after close');
  });

  it("forwards the current link's errors, and not those of a link swapped out", () => {
    const first = new ErrorLink('first');
    const second = new ErrorLink('second');
    const slot = new LinkSlot('vx0');
    const errors: string[] = [];
    slot.onError((error) => errors.push(error.message));
    slot.replace(first);
    first.fail('one');
    slot.replace(second);
    first.fail('two');
    second.fail('three');
    assert.deepEqual(errors, ['first: one', 'second: three']);
  });
});

describe('LinkSlot health', () => {
  it('reports the error that starts a run, and the frame that ends it, with the count', async () => {
    const hub = new MemoryHub();
    const peer = hub.port('peer');
    const link = new ErrorLink('vx');
    const slot = new LinkSlot('vx0');
    const issues: string[] = [];
    slot.onIssue((issue) =>
      issues.push(
        issue.kind === 'error'
          ? `${issue.first ? 'first' : 'more'}: ${issue.error.message}`
          : `recovered after ${issue.errors}`,
      ),
    );
    slot.replace(link);
    link.fail('one');
    link.fail('two');
    link.fail('three');
    assert.equal(slot.failing, 3);
    link.deliver(Uint8Array.of(1));
    link.deliver(Uint8Array.of(2));
    link.fail('four');
    // A new link in the slot starts healthy: its first error starts a run.
    const memory = hub.port('memory');
    slot.replace(memory);
    peer.send(Uint8Array.of(3));
    await settle();
    assert.deepEqual(issues, [
      'first: vx: one',
      'more: vx: two',
      'more: vx: three',
      'recovered after 3',
      'first: vx: four',
    ]);
    assert.deepEqual([slot.errors, slot.failing], [4, 0]);
  });
});

/** A link that reports an error, or delivers a frame, when told to. */
class ErrorLink implements Link {
  private errorHandler: LinkErrorHandler | undefined;
  constructor(readonly name: string) {}
  send(): void {}
  private frameHandler: FrameHandler | undefined;
  onFrame(handler: FrameHandler): void {
    this.frameHandler = handler;
  }
  deliver(frame: Uint8Array): void {
    this.frameHandler?.(frame);
  }
  onError(handler: LinkErrorHandler): void {
    this.errorHandler = handler;
  }
  async close(): Promise<void> {}
  fail(what: string): void {
    this.errorHandler?.(new LinkError('EIO', `${this.name}: ${what}`));
  }
}
