import 'should';
import express from 'express';
import request from 'supertest';
import { keepRawBodiesBeforeAdminParsers, readRawBody } from '../../nodes/lib/shopify/webhook-http';

// Node-RED mounts its admin app (with JSON and urlencoded body parsers) and the node app at "/" by
// default, the admin app first: this reproduces that arrangement.
function nodeRedLikeServer(paths: Map<string, number>, guard: boolean) {
  const admin = express();
  admin.use(express.json());
  admin.use(express.urlencoded({ extended: true }));
  admin.get('/settings', (_req, res) => { res.json({}); });
  const nodeApp = express();
  nodeApp.post('/shopify/webhooks', async (req, res) => {
    const raw = await readRawBody(req, paths.get('/shopify/webhooks') ?? 1024);
    res.status(raw.ok ? 200 : raw.status).type('text').send(raw.ok ? raw.body.toString('utf8') : raw.reason);
  });
  nodeApp.post('/other', (req, res) => { res.json({ parsed: req.body }); });
  if (guard) keepRawBodiesBeforeAdminParsers(admin, paths).should.be.true();
  const app = express();
  app.use('/', admin);
  app.use('/', nodeApp);
  return app;
}

describe('raw webhook bodies behind the admin app', () => {
  const body = '{"id": 1,  "name":"#1001", "note":"spaces  kept"}';

  it('without the guard the admin JSON parser eats the bytes (the problem)', async () => {
    const app = nodeRedLikeServer(new Map([['/shopify/webhooks', 1024]]), false);
    const r = await request(app).post('/shopify/webhooks').set('content-type', 'application/json').send(body);
    r.status.should.equal(500);
    r.text.should.match(/already parsed/);
  });

  it('keeps the exact bytes of webhook POSTs and leaves other routes to the parsers', async () => {
    const paths = new Map([['/shopify/webhooks', 1024]]);
    const app = nodeRedLikeServer(paths, true);
    const r = await request(app).post('/shopify/webhooks?x=1').set('content-type', 'application/json').send(body);
    r.status.should.equal(200);
    r.text.should.equal(body);
    const other = await request(app).post('/other').set('content-type', 'application/json').send(body);
    other.body.parsed.name.should.equal('#1001');
  });

  it('still answers 413 for a body over the limit, without buffering all of it', async () => {
    const paths = new Map([['/shopify/webhooks', 100]]);
    const app = nodeRedLikeServer(paths, true);
    const r = await request(app).post('/shopify/webhooks').set('content-type', 'application/json').send(`{"a":"${'x'.repeat(5000)}"}`);
    r.status.should.equal(413);
  });

  it('finds the parsers on the app the admin app is mounted in (as Node-RED nests them)', async () => {
    const paths = new Map([['/shopify/webhooks', 1024]]);
    const editorApi = express();
    editorApi.use(express.json());
    const runtimeAdmin = express(); // what nodes get as RED.httpAdmin: no parsers of its own
    editorApi.use(runtimeAdmin);
    const nodeApp = express();
    nodeApp.post('/shopify/webhooks', async (req, res) => {
      const raw = await readRawBody(req, 1024);
      res.status(raw.ok ? 200 : raw.status).type('text').send(raw.ok ? raw.body.toString('utf8') : raw.reason);
    });
    keepRawBodiesBeforeAdminParsers(runtimeAdmin, paths).should.be.true();
    const app = express();
    app.use('/', editorApi);
    app.use('/', nodeApp);
    const r = await request(app).post('/shopify/webhooks').set('content-type', 'application/json').send(body);
    r.status.should.equal(200);
    r.text.should.equal(body);
  });

  it('installs once and does nothing when no body parser is in the way', () => {
    const paths = new Map<string, number>();
    const admin = express();
    admin.use(express.json());
    keepRawBodiesBeforeAdminParsers(admin, paths).should.be.true();
    keepRawBodiesBeforeAdminParsers(admin, paths).should.be.true();
    const bare = express();
    bare.get('/x', (_q, s) => { s.end(); });
    keepRawBodiesBeforeAdminParsers(bare, paths).should.be.false();
  });
});
