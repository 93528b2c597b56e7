import 'should';
import { startBcSim, type BcSim } from '../../sim/bc';

type Json = Record<string, any>;
interface Reply { status: number; body: Json; headers: Headers }

/** A bare HTTP client for the simulator (the project's real BC client is tested elsewhere). */
async function connect(sim: BcSim) {
  const t = await fetch(sim.tokenUrl, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: sim.scope }),
  });
  const token = ((await t.json()) as Json).access_token as string;
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const full = url.startsWith('http') ? url : `${sim.apiUrl}/companies(${sim.companyId})/${url}`;
    const r = await fetch(full, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : {}, headers: r.headers };
  };
  return { token, call };
}

const ORDER_1001 = {
  customerNumber: 'C10000', externalDocumentNumber: '#1001', shipToName: 'Bob Norman', shipToAddressLine1: 'Chestnut Street 92',
  shipToCity: 'Louisville', shipToState: 'KY', shipToPostCode: '40202', shipToCountry: 'US',
  salesOrderLines: [
    { lineType: 'Item', lineObjectNumber: 'IPOD2008GREEN', quantity: 2, unitPrice: 199.0, discountAmount: 10.0 },
    { lineType: 'Item', lineObjectNumber: 'IPOD2008RED', quantity: 1, unitPrice: 199.0 },
    { lineType: 'Account', lineObjectNumber: '6610', description: 'Shipping', quantity: 1, unitPrice: 10.0 },
  ],
};

describe('BC simulator API', function () {
  this.timeout(15000);
  let sim: BcSim;
  let api: Awaited<ReturnType<typeof connect>>;

  before(async () => {
    sim = await startBcSim({ latencyMs: 0, catalogue: undefined });
    api = await connect(sim);
  });
  after(async () => { await sim.close(); });
  beforeEach(() => { sim.reset(); });

  describe('authentication', () => {
    it('issues a token only for the right client, secret and scope, with Entra-style errors', async () => {
      const form = (o: Record<string, string>) => fetch(sim.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(o) });
      const good = { grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: sim.scope };
      const ok = await form(good);
      ok.status.should.equal(200);
      const tok = (await ok.json()) as Json;
      tok.should.have.properties({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
      tok.access_token.split('.').should.have.length(3);

      const badSecret = await form({ ...good, client_secret: 'nope' });
      badSecret.status.should.equal(401);
      const e1 = (await badSecret.json()) as Json;
      e1.error.should.equal('invalid_client');
      e1.error_codes.should.eql([7000215]);
      e1.should.have.properties('trace_id', 'correlation_id', 'timestamp');
      JSON.stringify(e1).should.not.containEql('nope');

      ((await (await form({ ...good, client_id: 'stranger' })).json()) as Json).error.should.equal('unauthorized_client');
      const badScope = await form({ ...good, scope: 'https://graph.microsoft.com/.default' });
      badScope.status.should.equal(400);
      ((await badScope.json()) as Json).error.should.equal('invalid_scope');
    });

    it('answers 401 Authentication_InvalidCredentials without a valid Bearer token', async () => {
      const r = await fetch(`${sim.apiUrl}/companies`);
      r.status.should.equal(401);
      r.headers.get('www-authenticate')!.should.match(/^Bearer authorization_uri=/);
      const body = (await r.json()) as Json;
      body.error.code.should.equal('Authentication_InvalidCredentials');
      body.error.message.should.match(/CorrelationId: {2}[0-9a-f-]{36}\.$/);
      (await fetch(`${sim.apiUrl}/companies`, { headers: { authorization: 'Bearer forged' } })).status.should.equal(401);
      (await api.call('GET', `${sim.apiUrl}/companies`)).status.should.equal(200);
      sim.expireTokens();
      (await api.call('GET', `${sim.apiUrl}/companies`)).status.should.equal(401);
      api = await connect(sim);
    });
  });

  describe('sales orders', () => {
    it('deep-inserts lines and computes amounts, tax from the tax area and totals; numbers come from the series', async () => {
      const r = await api.call('POST', 'salesOrders?$expand=salesOrderLines', ORDER_1001);
      r.status.should.equal(201);
      r.headers.get('location')!.should.endWith(`salesOrders(${r.body.id})`);
      const o = r.body;
      o.should.have.properties({ number: 'S-ORD101001', status: 'Draft', externalDocumentNumber: '#1001', customerName: 'Bob Norman', currencyCode: 'USD' });
      o['@odata.etag'].should.match(/^W\/".+"$/);
      o.id.should.match(/^[0-9a-f-]{36}$/);
      o.salesOrderLines.map((l: Json) => [l.sequence, l.amountExcludingTax, l.taxPercent, l.totalTaxAmount]).should.eql([
        [10000, 388, 6, 23.28], [20000, 199, 6, 11.94], [30000, 10, 6, 0.6]]);
      o.salesOrderLines[0].discountPercent.should.be.approximately(2.51256, 0.00001);
      o.should.have.properties({ totalAmountExcludingTax: 597, totalTaxAmount: 35.82, totalAmountIncludingTax: 632.82 });

      const second = await api.call('POST', 'salesOrders', { customerNumber: 'C20000', discountAmount: 100, salesOrderLines: [{ lineObjectNumber: 'IPOD2008RED', quantity: 3 }] });
      second.status.should.equal(201);
      // Tax-exempt customer, item price defaulted from the item card, invoice discount applied before tax.
      second.body.should.have.properties({ number: 'S-ORD101002', totalAmountExcludingTax: 497, totalTaxAmount: 0, totalAmountIncludingTax: 497, discountAmount: 100 });

      const nv = await api.call('POST', 'salesOrders', { customerNumber: 'C10000', shipToState: 'NV', shipToCountry: 'US', salesOrderLines: [{ lineObjectNumber: 'IPOD2008RED', quantity: 1, unitPrice: 100 }] });
      nv.body.totalTaxAmount.should.equal(6.85);
    });

    it('rejects bad orders with BC error codes and creates nothing', async () => {
      const blockedItem = sim.catalogue.items.find((i) => i.blocked)!;
      const cases: [Json, number, string, RegExp][] = [
        [{ salesOrderLines: [] }, 400, 'Application_DialogException', /A customerNumber or a customerID must be provided\./],
        [{ customerNumber: 'NOPE' }, 404, 'Internal_RecordNotFound', /Customer does not exist.*No\.='NOPE'/],
        [{ customerNumber: 'C10000', salesOrderLines: [{ lineObjectNumber: 'NO-SUCH-SKU', quantity: 1 }] }, 404, 'Internal_RecordNotFound', /Item does not exist/],
        [{ customerNumber: 'C10000', salesOrderLines: [{ lineObjectNumber: blockedItem.number, quantity: 1 }] }, 400, 'Application_DialogException', /blocked/],
        [{ customerNumber: 'C10003' }, 400, 'Application_DialogException', /Customer C10003 is blocked with type All/],
        [{ customerNumber: 'C10000', externalDocumentNumber: 'x'.repeat(36) }, 400, 'Application_StringExceededLength', /must be less than or equal to 35 characters/],
        [{ customerNumber: 'C10000', salesOrderLines: [{ lineObjectNumber: 'IPOD2008RED', quantity: -1 }] }, 400, 'Application_FieldValidationException', /quantity/],
        [{ customerNumber: 'C10000', salesOrderLines: [{ lineObjectNumber: 'IPOD2008RED', quantity: '2' }] }, 400, 'BadRequest', /Edm.Decimal/],
        [{ customerNumber: 'C10000', totalAmountIncludingTax: 5 }, 400, 'BadRequest', /read-only/],
        [{ customerNumber: 'C10000', discountAmount: 500, salesOrderLines: [{ lineObjectNumber: 'IPOD2008RED', quantity: 1 }] }, 400, 'Application_DialogException', /invoice discount/],
      ];
      for (const [body, status, code, msg] of cases) {
        const r = await api.call('POST', 'salesOrders', body);
        r.status.should.equal(status, JSON.stringify(body));
        r.body.error.code.should.equal(code);
        r.body.error.message.should.match(msg);
      }
      const proto = await api.call('POST', 'salesOrders', '{"customerNumber":"C10000","__proto__":{"status":"Open"}}');
      proto.status.should.equal(400);
      const malformed = await api.call('POST', 'salesOrders', '{"customerNumber":');
      malformed.status.should.equal(400);
      sim.db.all('salesOrders').should.have.length(0);
      sim.db.all('salesOrderLines').should.have.length(0);
    });

    it('PATCH needs If-Match: missing → 400, stale → 409, * allowed; the etag changes on every write', async () => {
      const o = (await api.call('POST', 'salesOrders', ORDER_1001)).body;
      const missing = await api.call('PATCH', `salesOrders(${o.id})`, { externalDocumentNumber: '#X' });
      missing.status.should.equal(400);
      missing.body.error.code.should.equal('BadRequest_InvalidToken');
      const ok = await api.call('PATCH', `salesOrders(${o.id})`, { externalDocumentNumber: '#1001-b' }, { 'if-match': o['@odata.etag'] });
      ok.status.should.equal(200);
      ok.body.externalDocumentNumber.should.equal('#1001-b');
      ok.body['@odata.etag'].should.not.equal(o['@odata.etag']);
      const stale = await api.call('PATCH', `salesOrders(${o.id})`, { externalDocumentNumber: '#Y' }, { 'if-match': o['@odata.etag'] });
      stale.status.should.equal(409);
      stale.body.error.code.should.equal('Request_EntityChanged');
      (await api.call('PATCH', `salesOrders(${o.id})`, { email: 'x@example.com' }, { 'if-match': '*' })).status.should.equal(200);
      const deep = await api.call('PATCH', `salesOrders(${o.id})`, { salesOrderLines: [] }, { 'if-match': '*' });
      deep.status.should.equal(400);
    });

    it('adds, changes and deletes lines nested and top-level, keeping totals and the header etag current', async () => {
      const o = (await api.call('POST', 'salesOrders', ORDER_1001)).body;
      const added = await api.call('POST', `salesOrders(${o.id})/salesOrderLines`, { lineType: 'Comment', description: 'Gift wrap, please' });
      added.status.should.equal(201);
      added.body.sequence.should.equal(40000);
      const top = await api.call('POST', 'salesOrderLines', { documentId: o.id, lineObjectNumber: 'IPOD2008RED', quantity: 1, unitPrice: 50 });
      top.status.should.equal(201);
      let h = (await api.call('GET', `salesOrders(${o.id})`)).body;
      h.totalAmountExcludingTax.should.equal(647);
      h['@odata.etag'].should.not.equal(o['@odata.etag']);
      const line = top.body;
      const patched = await api.call('PATCH', `salesOrderLines(${line.id})`, { quantity: 2 }, { 'if-match': line['@odata.etag'] });
      patched.status.should.equal(200);
      patched.body.amountExcludingTax.should.equal(100);
      (await api.call('DELETE', `salesOrders(${o.id})/salesOrderLines(${line.id})`)).status.should.equal(204);
      h = (await api.call('GET', `salesOrders(${o.id})?$expand=salesOrderLines($expand=item;$select=sequence,lineType)`)).body;
      h.totalAmountExcludingTax.should.equal(597);
      h.salesOrderLines.map((l: Json) => l.sequence).should.eql([10000, 20000, 30000, 40000]);
      h.salesOrderLines[0].item.number.should.equal('IPOD2008GREEN');
      (h.salesOrderLines[2].item === null).should.be.true();
      Object.keys(h.salesOrderLines[0]).should.eql(['@odata.etag', 'id', 'sequence', 'lineType', 'item']);
      (await api.call('DELETE', `salesOrders(${o.id})`)).status.should.equal(204);
      (await api.call('GET', `salesOrders(${o.id})`)).status.should.equal(404);
    });

    it('answers query errors with BadRequest codes and CorrelationId', async () => {
      const bad = await api.call('GET', "customers?$filter=number eq 'C1");
      bad.status.should.equal(400);
      bad.body.error.code.should.equal('BadRequest_NotFound');
      bad.body.error.message.should.match(/CorrelationId: {2}[0-9a-f-]{36}\.$/);
      (await api.call('GET', "customers?$filter=nosuchfield eq 'x'")).body.error.message.should.match(/Could not find a property named 'nosuchfield'/);
      (await api.call('GET', 'nosuchset')).status.should.equal(404);
      (await api.call('GET', 'customers(12345)')).status.should.equal(400);
      (await api.call('DELETE', `items(${sim.db.all('items')[0]!.id})`)).body.error.code.should.equal('BadRequest_MethodNotAllowed');
    });
  });

  describe('paging', () => {
    it('pages with absolute @odata.nextLink at the preferred page size and keeps the filter', async () => {
      const ids = new Set<string>();
      let url: string | undefined = `${sim.apiUrl}/companies(${sim.companyId})/customers?$filter=${encodeURIComponent("startswith(number,'C3')")}&$select=number`;
      let pages = 0;
      while (url) {
        const r = await api.call('GET', url, undefined, { prefer: 'odata.maxpagesize=50' });
        r.status.should.equal(200);
        r.headers.get('preference-applied')!.should.equal('odata.maxpagesize=50');
        r.body.value.length.should.be.belowOrEqual(50);
        for (const c of r.body.value) { c.number.should.startWith('C3'); ids.add(c.id); }
        url = r.body['@odata.nextLink'];
        if (url) url.should.startWith('http://127.0.0.1');
        pages++;
      }
      ids.size.should.equal(200);
      pages.should.equal(4);
    });

    it('uses the configured default page size, and $top/$orderby', async () => {
      const small = await startBcSim({ pageSize: 3, latencyMs: 0 });
      try {
        const c = await connect(small);
        const r = await c.call('GET', `${small.apiUrl}/companies(${small.companyId})/locations?$orderby=code desc`);
        r.body.value.map((l: Json) => l.code).should.eql(['WEST', 'EU', 'EAST']);
        (r.body['@odata.nextLink'] === undefined).should.be.true();
        const items = await c.call('GET', `${small.apiUrl}/companies(${small.companyId})/items?$top=5`);
        items.body.value.should.have.length(3);
        const rest = await c.call('GET', items.body['@odata.nextLink']);
        rest.body.value.should.have.length(2);
        (rest.body['@odata.nextLink'] === undefined).should.be.true();
      } finally {
        await small.close();
      }
    });
  });

  describe('$batch', () => {
    const batch = (requests: Json[], headers: Record<string, string> = {}) => api.call('POST', `${sim.apiUrl}/$batch`, { requests }, headers);
    const ops = () => {
      const item = sim.db.all('items')[0]!;
      return [
        { id: '1', method: 'POST', url: `companies(${sim.companyId})/salesOrders`, headers: { 'Content-Type': 'application/json' }, body: ORDER_1001 },
        { id: '2', method: 'PATCH', url: `companies(${sim.companyId})/items(${item.id})`, headers: { 'If-Match': 'W/"stale"' }, body: { displayName: 'x' } },
        { id: '3', method: 'GET', url: `companies(${sim.companyId})/customers?$filter=number eq 'C10000'` },
      ];
    };

    it('returns 200 with per-request statuses and keeps the successful ones', async () => {
      const r = await batch(ops());
      r.status.should.equal(200);
      r.body.responses.map((x: Json) => [x.id, x.status]).should.eql([['1', 201], ['2', 409], ['3', 200]]);
      r.body.responses[1].body.error.code.should.equal('Request_EntityChanged');
      r.body.responses[2].body.value[0].number.should.equal('C10000');
      sim.db.all('salesOrders').should.have.length(1);
      sim.operations().should.have.properties({ 'POST $batch': 1, 'POST salesOrders': 1, 'PATCH items': 1, 'GET customers': 1 });
      sim.requests().should.eql({ 'POST $batch': 1 });
    });

    it('rolls everything back with Isolation: snapshot when one request fails', async () => {
      const r = await batch(ops(), { isolation: 'snapshot' });
      r.status.should.equal(200);
      r.body.responses.map((x: Json) => x.status).should.eql([424, 409, 424]);
      sim.db.all('salesOrders').should.have.length(0);
      const ok = await batch([ops()[0]!], { isolation: 'snapshot' });
      ok.body.responses[0].status.should.equal(201);
      sim.db.all('salesOrders').should.have.length(1);
    });

    it('refuses more than 100 operations', async () => {
      const many = Array.from({ length: 101 }, (_, i) => ({ id: String(i), method: 'GET', url: `companies(${sim.companyId})/locations` }));
      const r = await batch(many);
      r.status.should.equal(400);
      r.body.error.message.should.match(/maximum is 100/);
      (await batch(many.slice(0, 100))).status.should.equal(200);
    });
  });

  describe('faults', () => {
    it('lost response: the order is committed but the client sees a 504 or a dropped connection', async () => {
      sim.setFaults({ lostResponseMode: 'gateway-timeout' });
      sim.failNext(1, 'lostResponse');
      const r = await api.call('POST', 'salesOrders', ORDER_1001);
      r.status.should.equal(504);
      const found = await api.call('GET', `salesOrders?$filter=${encodeURIComponent("externalDocumentNumber eq '#1001'")}`);
      found.body.value.should.have.length(1);

      sim.setFaults({ lostResponseMode: 'reset', lostResponseRate: 1 });
      await api.call('POST', 'salesOrders', { ...ORDER_1001, externalDocumentNumber: '#1002' }).should.be.rejected();
      sim.setFaults({ lostResponseRate: 0 });
      (await api.call('GET', `salesOrders?$filter=${encodeURIComponent("externalDocumentNumber eq '#1002'")}`)).body.value.should.have.length(1);
      sim.stats().lostResponses.should.equal(2);
    });

    it('injects seeded 429/503/504 errors and a down mode', async () => {
      sim.setFaults({ errorRate: 1, errorStatuses: [503] });
      const r = await api.call('GET', 'items?$top=1');
      r.status.should.equal(503);
      r.headers.get('retry-after')!.should.equal('1');
      sim.setFaults({ errorRate: 0, down: true });
      (await api.call('GET', 'items?$top=1')).status.should.equal(503);
      sim.setFaults({ down: false });
      sim.failNext(2, 429, { entity: 'customers' });
      (await api.call('GET', 'items?$top=1')).status.should.equal(200);
      (await api.call('GET', 'customers?$top=1')).status.should.equal(429);
      (await api.call('GET', 'customers?$top=1')).status.should.equal(429);
      (await api.call('GET', 'customers?$top=1')).status.should.equal(200);
    });
  });

  describe('shipments, invoices and the companion API', () => {
    const availability = async (item: string, location: string) => {
      const r = await api.call('GET', `${sim.customApiUrl}/companies(${sim.companyId})/locationAvailabilities?$filter=itemNumber eq '${item}' and locationCode eq '${location}'`);
      r.status.should.equal(200);
      return r.body.value[0] as Json;
    };

    it('open orders show in qtyOnSalesOrders; shipments reduce stock and demand, set shippedQuantity and tracking', async () => {
      const east = sim.db.by('locations', 'code', 'EAST')!.id;
      (await availability('IPOD2008GREEN', 'EAST')).should.have.properties({ inventory: 50, qtyOnSalesOrders: 0 });
      const before = new Date().toISOString();
      const o = (await api.call('POST', 'salesOrders', {
        ...ORDER_1001, salesOrderLines: ORDER_1001.salesOrderLines.map((l) => (l.lineType === 'Item' ? { ...l, locationId: east } : l)),
      })).body;
      (await availability('IPOD2008GREEN', 'EAST')).should.have.properties({ inventory: 50, qtyOnSalesOrders: 2 });
      const changed = await api.call('GET', `${sim.customApiUrl}/companies(${sim.companyId})/locationAvailabilities?$filter=lastModifiedDateTime ge ${before}`);
      changed.body.value.map((a: Json) => `${a.itemNumber}@${a.locationCode}`).sort().should.eql(['IPOD2008GREEN@EAST', 'IPOD2008RED@EAST']);

      const s1 = sim.postShipment(o.number, { lines: [{ itemNumber: 'IPOD2008GREEN', quantity: 1 }], trackingNumber: '1Z999', shippingAgentCode: 'UPS' });
      s1.should.have.properties({ number: 'S-SHPT102001', orderNumber: o.number, externalDocumentNumber: '#1001' });
      sim.onHand('IPOD2008GREEN', '', 'EAST').should.equal(49);
      (await availability('IPOD2008GREEN', 'EAST')).should.have.properties({ inventory: 49, qtyOnSalesOrders: 1 });
      let h = sim.order(o.number)!;
      h.should.have.properties({ status: 'Open', fullyShipped: false });
      h.salesOrderLines[0]!.should.have.properties({ shippedQuantity: 1, shipQuantity: 1 });
      const lines = await api.call('GET', `salesShipments(${s1.id})/salesShipmentLines`);
      lines.body.value.map((l: Json) => [l.lineObjectNumber, l.quantity]).should.eql([['IPOD2008GREEN', 1]]);
      const tracking = await api.call('GET', `${sim.customApiUrl}/companies(${sim.companyId})/shipmentTrackings?$filter=orderNumber eq '${o.number}'`);
      tracking.body.value[0].should.have.properties({ shipmentNumber: 'S-SHPT102001', packageTrackingNo: '1Z999', shippingAgentCode: 'UPS', trackingUrl: 'https://www.ups.com/track?tracknum=1Z999' });

      const shipLines = await api.call('GET', `${sim.customApiUrl}/companies(${sim.companyId})/shipmentLines?$filter=shipmentNumber eq 'S-SHPT102001'`);
      shipLines.body.value.map((l: Json) => [l.sequence, l.lineObjectNumber, l.variantCode, l.locationCode, l.quantity]).should.eql([[10000, 'IPOD2008GREEN', '', 'EAST', 1]]);

      // Released and partly shipped: no more edits, no delete.
      (await api.call('PATCH', `salesOrders(${o.id})`, { email: 'a@b.c' }, { 'if-match': '*' })).body.error.message.should.match(/Status must be equal to 'Open'/);
      (await api.call('DELETE', `salesOrders(${o.id})`)).body.error.message.should.match(/shipped/);

      sim.postShipment(o.number, { trackingNumber: '1Z998', shippingAgentCode: 'UPS' });
      h = sim.order(o.number)!;
      (h.fullyShipped as boolean).should.be.true();
      (await availability('IPOD2008RED', 'EAST')).should.have.properties({ inventory: 49, qtyOnSalesOrders: 0 });
      (() => sim.postShipment(o.number)).should.throw(/nothing to post/);

      const inv = sim.invoiceOrder(o.number);
      inv.should.have.properties({ number: 'S-INV103001', orderNumber: o.number, totalAmountIncludingTax: 632.82, status: 'Open' });
      (sim.order(o.number) === undefined).should.be.true(); // BC deletes a completely shipped and invoiced order
      (await api.call('GET', `salesInvoices(${inv.id})/salesInvoiceLines`)).body.value.should.have.length(3);
    });

    it('control API over HTTP: stock, blocking, shipments and counters', async () => {
      const put = (path: string, body: unknown, method = 'POST') => fetch(`${sim.url}/_sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      (await put('/stock', { item: 'IPOD2008RED', location: 'WEST', quantity: 7 }, 'PUT')).status.should.equal(204);
      sim.onHand('IPOD2008RED', '', 'WEST').should.equal(7);
      (await put('/items/IPOD2008RED/blocked', { blocked: true })).status.should.equal(204);
      const r = await api.call('POST', 'salesOrders', ORDER_1001);
      r.body.error.code.should.equal('Application_DialogException');
      (await put('/items/IPOD2008RED/blocked', { blocked: false })).status.should.equal(204);
      const o = (await api.call('POST', 'salesOrders', ORDER_1001)).body;
      const ship = await put(`/orders/${o.number}/shipments`, { trackingNumber: 'T1', shippingAgentCode: 'FEDEX', locationCode: 'WEST' });
      ship.status.should.equal(200);
      sim.onHand('IPOD2008RED', '', 'WEST').should.equal(6);
      const unknown = await put('/orders/S-ORD999/shipments', {});
      unknown.status.should.equal(404);
      const counters = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as Json;
      counters.requests.should.eql({ 'POST salesOrders': 2 });
    });

    it('Microsoft.NAV.shipAndInvoice ships and invoices everything, then the order is gone', async () => {
      const o = (await api.call('POST', 'salesOrders', ORDER_1001)).body;
      const r = await api.call('POST', `salesOrders(${o.id})/Microsoft.NAV.shipAndInvoice`);
      r.status.should.equal(204);
      (await api.call('GET', `salesOrders(${o.id})`)).status.should.equal(404);
      const inv = await api.call('GET', `salesInvoices?$filter=orderNumber eq '${o.number}'`);
      inv.body.value[0].totalAmountIncludingTax.should.equal(632.82);
      (await api.call('GET', `salesShipments?$filter=orderNumber eq '${o.number}'`)).body.value.should.have.length(1);
      (await api.call('GET', `salesOrders(${o.id})/Microsoft.NAV.shipAndInvoice`)).status.should.equal(404);
    });

    it('credit memos: deep insert, and posting returns stock', async () => {
      const east = sim.db.by('locations', 'code', 'EAST')!.id;
      const cm = await api.call('POST', 'salesCreditMemos?$expand=salesCreditMemoLines', {
        customerNumber: 'C10000', externalDocumentNumber: '#1001-R1', salesCreditMemoLines: [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1, unitPrice: 199, locationId: east }],
      });
      cm.status.should.equal(201);
      cm.body.should.have.properties({ number: 'S-CR104001', status: 'Draft', totalAmountIncludingTax: 210.94 });
      cm.body.salesCreditMemoLines.should.have.length(1);
      (await api.call('POST', `salesCreditMemos(${cm.body.id})/Microsoft.NAV.post`)).status.should.equal(204);
      sim.onHand('IPOD2008GREEN', '', 'EAST').should.equal(51);
      (await api.call('GET', `salesCreditMemos(${cm.body.id})`)).body.status.should.equal('Open');
    });
  });
});
