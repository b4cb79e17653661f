// The baseline: bare Fastify answering a small JSON object, nothing else.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 5199) });
console.log('listening');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
