import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unsetEnvSettings, withUnsetEnv } from '../../lib/util/env-refs';

test('unsetEnvSettings: settings left as a whole "${NAME}" or "$(NAME)" reference name an unset variable; other text is not one', () => {
  const def = {
    id: '${NOT_A_SETTING}',
    type: 'vigie-sensor',
    sensorId: '${VIGIE_SENSOR}',
    lat: '$(VIGIE_SENSOR_LAT)',
    name: 'corner ${VIGIE_SENSOR}', // not whole: Node-RED does not substitute it
    host: '${}',
    port: 8080,
    mics: ['${NOT_TEXT}'],
  };
  assert.deepEqual(unsetEnvSettings(def), [
    { field: 'sensorId', variable: 'VIGIE_SENSOR' },
    { field: 'lat', variable: 'VIGIE_SENSOR_LAT' },
  ]);
});

test('withUnsetEnv: a configuration error gets the unset variables and their fields; without any, it is unchanged', () => {
  assert.equal(withUnsetEnv('lat: expected a number', { lat: '45' }), 'lat: expected a number');
  assert.equal(withUnsetEnv('lat: expected a number', { lat: '${LAT}' }), 'lat: expected a number; environment variable not set where Node-RED runs: LAT (lat)');
  assert.equal(
    withUnsetEnv('lat: expected a number', { lat: '${LAT}', lon: '${LON}' }),
    'lat: expected a number; environment variables not set where Node-RED runs: LAT (lat), LON (lon)',
  );
});
