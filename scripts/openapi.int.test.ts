import assert from 'node:assert/strict';
import { test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createService } from '@ecom/platform';
import { SERVICES } from './services.js';

// Every service's /v3/api-docs is a valid OpenAPI document that documents its routes with schemas.
for (const [name, load] of Object.entries(SERVICES)) {
  test(`${name}: /v3/api-docs is valid OpenAPI and every operation documents its responses`, async () => {
    const service = await createService(await load(), {
      env: { SERVER_PORT: '0', LOG_LEVEL: 'silent' },
      schema: `openapi_${name}`,
    });
    try {
      const res = await service.app.inject({ method: 'GET', url: '/v3/api-docs' });
      assert.equal(res.statusCode, 200);
      const doc = res.json();
      await SwaggerParser.validate(structuredClone(doc));
      const paths = Object.keys(doc.paths);
      assert.ok(paths.length > 0, 'documents its business routes');
      assert.ok(!paths.some((p) => p.startsWith('/actuator')), 'platform endpoints stay out of the business document');
      for (const [path, ops] of Object.entries(
        doc.paths as Record<
          string,
          Record<string, { parameters?: unknown[]; requestBody?: unknown; responses?: unknown }>
        >,
      )) {
        for (const [method, op] of Object.entries(ops)) {
          assert.ok(op.responses, `${method.toUpperCase()} ${path} documents its responses`);
        }
      }
      const ui = await service.app.inject({ method: 'GET', url: '/swagger-ui/' });
      assert.equal(ui.statusCode, 200);
    } finally {
      await service.stop();
    }
  });
}
