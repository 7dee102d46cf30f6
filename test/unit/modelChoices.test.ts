import * as assert from 'node:assert/strict';
import { RECENT_MODELS_LIMIT, recentModels, rememberModel, typedChoices } from '../../src/core/modelChoices';

describe('Select Model: typed ids and the ids used before', () => {
  it('offers a typed id that the endpoint did not list, and says when it lists none', () => {
    assert.deepEqual(typedChoices('qwen3:8b', [], [], true), [
      { kind: 'typed', id: 'qwen3:8b', label: 'Use "qwen3:8b"', detail: 'the endpoint lists no models; this id is sent as typed' },
    ]);
    assert.deepEqual(typedChoices('', [], [], true), [{ kind: 'note', label: 'The endpoint lists no models: type a model id and press Enter' }]);
    assert.equal(typedChoices('gpt-4o', ['gpt-4o'], [], false).length, 0, 'a listed id is picked from the list');
    assert.equal(typedChoices('llama3', [], ['llama3'], false).length, 0, 'a remembered id is picked from its row');
    assert.equal(typedChoices('', ['gpt-4o'], [], false).length, 0);
  });

  it('a typed text that cannot be an id says why instead of offering it', () => {
    const [row] = typedChoices('my model; drop table', [], [], false);
    assert.equal(row.kind, 'invalid');
  });

  it('remembers ids most recent first, without duplicates or junk, bounded', () => {
    let list = recentModels(['a', 'a', 42, 'bad id!', ' b ']);
    assert.deepEqual(list, ['a', 'b']);
    list = rememberModel(list, 'b');
    assert.deepEqual(list, ['b', 'a']);
    for (let i = 0; i < 20; i++) {
      list = rememberModel(list, `m${i}`);
    }
    assert.equal(list.length, RECENT_MODELS_LIMIT);
    assert.equal(list[0], 'm19');
    assert.deepEqual(rememberModel(['a'], 'not an id!'), ['a']);
  });
});
