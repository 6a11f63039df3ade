// Keys: physical keys match by KeyboardEvent.code whatever the layout types there; other names
// match by the character typed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { isPhysicalName, matchKey, normalizeChoices, physicalName } from '../../resources/interpreter/keys.js';

const ev = (key, code) => ({ key, code });

test('letters, digits, space and arrows match by position on any layout', () => {
  const fj = normalizeChoices(['f', 'j']);
  assert.equal(matchKey(fj, ev('а', 'KeyF')), 'f', 'Russian layout: the F key types а');
  assert.equal(matchKey(fj, ev('F', 'KeyF')), 'f', 'Shift or Caps Lock');
  assert.equal(matchKey(normalizeChoices('1,2'), ev('&', 'Digit1')), '1', 'AZERTY: the 1 key types & without Shift');
  assert.equal(matchKey(normalizeChoices(['1']), ev('1', 'Numpad1')), '1', 'the keypad counts');
  assert.equal(matchKey(normalizeChoices(' '), ev(' ', 'Space')), 'space');
  assert.equal(matchKey(normalizeChoices(['ArrowLeft']), ev('ArrowLeft', 'ArrowLeft')), 'arrowleft');
  // German QWERTZ: the key left of X types 'y' but is the 'z' position.
  assert.equal(matchKey(normalizeChoices(['z', 'm']), ev('y', 'KeyZ')), 'z');
  assert.equal(matchKey(normalizeChoices(['z', 'm']), ev('z', 'KeyY')), null, 'the Y position is not z');
});

test('names without a fixed position match what was typed; events without a code too', () => {
  assert.equal(matchKey(normalizeChoices([',', '.']), ev(',', 'KeyM')), ',', 'AZERTY comma sits on the M position');
  assert.equal(matchKey(normalizeChoices(['ä']), ev('ä', 'Quote')), 'ä');
  assert.equal(matchKey(normalizeChoices(['f']), ev('f', '')), 'f', 'on-screen keyboards send no code');
  assert.equal(matchKey(normalizeChoices(['f']), ev('f', 'Unidentified')), 'f');
  assert.equal(matchKey('ALL_KEYS', ev('а', 'KeyF')), 'а', 'any key: the response is what was typed');
  assert.equal(matchKey('NO_KEYS', ev('f', 'KeyF')), null);
});

test('physical names', () => {
  assert.equal(physicalName('KeyQ'), 'q');
  assert.equal(physicalName('Digit0'), '0');
  assert.equal(physicalName('NumpadEnter'), 'enter');
  assert.equal(physicalName('Comma'), null);
  for (const k of ['a', 'z', '0', '9', 'space', 'arrowup', 'enter', 'escape']) assert.ok(isPhysicalName(k), k);
  for (const k of [',', 'ä', 'shift', 'f1']) assert.ok(!isPhysicalName(k), k);
});
