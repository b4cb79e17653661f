import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export interface OpenApiOptions {
  title: string;
  description: string;
  version: string;
  /** Where Swagger UI is served; the document is at `<routePrefix>/json`. */
  routePrefix: string;
}

/** OpenAPI 3 document generated from the route schemas, and Swagger UI to browse it. */
export const openApi = fp(
  async function openApi(app: FastifyInstance, options: OpenApiOptions) {
    await app.register(swagger, {
      openapi: {
        info: { title: options.title, description: options.description, version: options.version },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearerAuth: [] }],
      },
    });
    // Swagger UI is public documentation; the routes it adds must not require a token.
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith(options.routePrefix)) route.config = { ...route.config, auth: false };
    });
    await app.register(swaggerUi, { routePrefix: options.routePrefix, uiConfig: { deepLinking: true } });
  },
  { name: 'openapi' },
);
