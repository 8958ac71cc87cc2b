// A small Fedify server: the independent ActivityPub peer that
// federation-tests/fedify.rs runs against a real `confab` process.
//
//   node peer.mjs <port>        (FEDIFY_FIRST_KNOCK=draft-cavage-http-signatures-12
//                                to make draft-cavage its first try)
//
// It binds 127.0.0.1:<port> and calls itself http://fedify.test:<port>;
// every `*.test` name resolves to 127.0.0.1, as in the Confab rig. Actors:
//   fedi    an ordinary Person (RSA and Ed25519 keys, WebFinger, NodeInfo)
//   locked  a Person whose document answers only signed GETs (authorized fetch)
//   nameless  a Person without `preferredUsername` (ActivityPub allows that)
// Its inbox records what arrives and answers a Follow with Fedify's usual
// Accept, which embeds the Follow. A control API under /_test/ lets the test
// make it send (Follow, Create{Note}, Create{ChatMessage}, Block,
// Undo{Block}) and read what it received and how each delivery was signed.
// Test use only: private addresses are allowed on purpose.

import dns from "node:dns";
import http from "node:http";
import { randomUUID } from "node:crypto";
import {
  createFederation,
  generateCryptoKeyPair,
  InProcessMessageQueue,
  MemoryKvStore,
} from "@fedify/fedify";
import {
  Accept,
  Activity,
  Block,
  ChatMessage,
  Create,
  Delete,
  EmojiReact,
  Endpoints,
  Follow,
  Like,
  Mention,
  Note,
  Person,
  Undo,
  Update,
} from "@fedify/vocab";
import { configure } from "@logtape/logtape";
import { Temporal } from "@js-temporal/polyfill";

const port = Number(process.argv[2] ?? process.env.FEDIFY_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node peer.mjs <port>");
  process.exit(2);
}
const origin = `http://fedify.test:${port}`;
const firstKnock = process.env.FEDIFY_FIRST_KNOCK ?? "rfc9421";

// The rig's host names (`alpha.test`, `fedify.test`, ...) are loopback.
const systemLookup = dns.lookup;
dns.lookup = (hostname, options, callback) => {
  if (typeof options === "function") [callback, options] = [options, {}];
  if (typeof options === "number") options = { family: options };
  if (!hostname.endsWith(".test")) {
    return systemLookup(hostname, options, callback);
  }
  if (options?.all) return callback(null, [{ address: "127.0.0.1", family: 4 }]);
  return callback(null, "127.0.0.1", 4);
};

// Fedify's own log lines, kept for /_test/log; errors also go to stderr.
const logLines = [];
await configure({
  sinks: {
    memory: (record) => {
      const message = record.message
        .map((part) => (typeof part === "string" ? part : JSON.stringify(part)))
        .join("");
      const line = `${record.level} ${record.category.join(".")}: ${message}`;
      logLines.push(line);
      if (record.level === "error" || record.level === "fatal") console.error(`[fedify peer] ${line}`);
    },
  },
  loggers: [
    { category: "fedify", sinks: ["memory"], lowestLevel: "debug" },
    { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
  ],
});

// Every outgoing request Fedify makes, with the signature scheme it used
// and the answer: this shows the double knock (RFC 9421, then draft-cavage).
const outgoing = [];
const plainFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const entry = {
    method: request.method,
    url: request.url,
    scheme: request.headers.has("signature-input")
      ? "rfc9421"
      : request.headers.has("signature")
        ? "draft-cavage"
        : "unsigned",
    signature_input: request.headers.get("signature-input"),
    signature: request.headers.get("signature"),
    activity: null,
    status: null,
    body: null,
  };
  if (request.method === "POST") {
    try {
      entry.activity = JSON.parse(await request.clone().text());
    } catch {
      // not JSON: keep it out of the record
    }
  }
  outgoing.push(entry);
  try {
    const response = await plainFetch(request);
    entry.status = response.status;
    if (response.status >= 400) {
      entry.body = (await response.clone().text()).slice(0, 2000);
    }
    return response;
  } catch (error) {
    entry.error = String(error);
    throw error;
  }
};

const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  origin,
  allowPrivateAddress: true,
  skipSignatureVerification: false,
  firstKnock,
});

// Actors and their keys (RSA for HTTP signatures, Ed25519 for proofs).
const ACTORS = {
  fedi: { name: "Fedi Peer", signedFetchOnly: false },
  locked: { name: "Locked Peer", signedFetchOnly: true },
  nameless: { name: "Nameless Peer", signedFetchOnly: false, noUsername: true },
};
const keys = {};
for (const identifier of Object.keys(ACTORS)) {
  keys[identifier] = [
    await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
    await generateCryptoKeyPair("Ed25519"),
  ];
}

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    const actor = ACTORS[identifier];
    if (actor == null) return null;
    const pairs = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: actor.noUsername ? null : identifier,
      name: actor.name,
      summary: "<p>An independent ActivityPub peer for Confab's tests</p>",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      publicKey: pairs[0].cryptographicKey,
      assertionMethods: pairs.map((pair) => pair.multikey),
      manuallyApprovesFollowers: false,
    });
  })
  .mapHandle((_ctx, username) => (ACTORS[username] ? username : null))
  .setKeyPairsDispatcher((_ctx, identifier) => keys[identifier] ?? [])
  .authorize(async (ctx, identifier) => {
    if (!ACTORS[identifier]?.signedFetchOnly) return true;
    const owner = await ctx.getSignedKeyOwner();
    fetchesOfLocked.push({
      signed_by: owner?.id?.href ?? null,
      signature: ctx.request.headers.get("signature"),
      signature_input: ctx.request.headers.get("signature-input"),
    });
    return owner != null;
  });

// GETs of the `locked` actor: who signed (null = refused), and how.
const fetchesOfLocked = [];

federation.setFollowersDispatcher(
  "/users/{identifier}/followers",
  (_ctx, identifier) => ({
    items: received
      .filter((r) => r.type === "Follow" && r.object === `${origin}/users/${identifier}`)
      .map((r) => new URL(r.actor)),
  }),
);

federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
  software: { name: "fedify-test-peer", version: "2.3.6" },
  protocols: ["activitypub"],
  openRegistrations: false,
  usage: { users: { total: 2 }, localPosts: 0, localComments: 0 },
}));

// What the inbox accepted (signature verified), in arrival order.
const received = [];
async function record(ctx, activity) {
  const json = await activity.toJsonLd({ contextLoader: ctx.contextLoader });
  const entry = {
    type: json.type ?? activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    json,
  };
  received.push(entry);
  return entry;
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    if (follow.id == null || follow.actorId == null || follow.objectId == null) return;
    const parsed = ctx.parseUri(follow.objectId);
    if (parsed?.type !== "actor") return;
    const follower = await follow.getActor(ctx);
    if (follower == null) return;
    // Fedify's usual answer: an Accept that embeds the Follow it accepts.
    await ctx.sendActivity(
      { identifier: parsed.identifier },
      follower,
      new Accept({ actor: follow.objectId, object: follow }),
    );
  })
  .on(Accept, record)
  .on(Create, record)
  .on(Block, record)
  .on(Undo, record)
  .on(Update, record)
  .on(Delete, record)
  .on(Activity, record)
  .onError((_ctx, error) => {
    logLines.push(`inbox error: ${error?.stack ?? error}`);
  });

// Raw bodies of every inbox POST, with the scheme the sender signed with
// and the status Fedify answered.
const inboxPosts = [];

// --- the control API ---------------------------------------------------

/** `@user@host` (resolved over http, as the rig has no TLS) or a URL. */
async function resolveActor(ctx, target) {
  let url = target;
  const handle = /^@?([^@]+)@([^@]+)$/.exec(target);
  if (handle) {
    const [, user, host] = handle;
    const finger = await plainFetch(
      `http://${host}/.well-known/webfinger?resource=acct:${user}@${host}`,
      { headers: { accept: "application/jrd+json" } },
    );
    if (!finger.ok) throw new Error(`WebFinger ${target}: ${finger.status}`);
    const jrd = await finger.json();
    const self = jrd.links?.find((l) => l.rel === "self");
    if (self?.href == null) throw new Error(`WebFinger ${target}: no self link`);
    url = self.href;
  }
  const actor = await ctx.lookupObject(url);
  if (actor == null || actor.inboxId == null) throw new Error(`cannot read actor ${url}`);
  return actor;
}

function newId(from, kind) {
  return new URL(`${origin}/users/${from}/${kind}/${randomUUID()}`);
}

const controls = {
  // { from, to } -> Follow
  async follow(ctx, { from = "fedi", to }) {
    const actor = await resolveActor(ctx, to);
    const follow = new Follow({ id: newId(from, "follows"), actor: ctx.getActorUri(from), object: actor.id });
    await ctx.sendActivity({ identifier: from }, actor, follow);
    return { id: follow.id.href, actor: actor.id.href };
  },
  // { from, to, content, kind: "Note" | "ChatMessage" } -> Create
  async dm(ctx, { from = "fedi", to, content, kind = "Note" }) {
    const actor = await resolveActor(ctx, to);
    const host = actor.id.host;
    const handle = `@${actor.preferredUsername ?? "user"}@${host}`;
    const objectId = newId(from, "notes");
    const values = {
      id: objectId,
      attribution: ctx.getActorUri(from),
      to: actor.id,
      content,
      published: Temporal.Now.instant(),
    };
    const object = kind === "ChatMessage"
      ? new ChatMessage(values)
      : new Note({
          ...values,
          tags: [new Mention({ href: actor.id, name: handle })],
          mediaType: "text/html",
        });
    const create = new Create({
      id: new URL(`${objectId.href}/activity`),
      actor: ctx.getActorUri(from),
      to: actor.id,
      object,
      published: values.published,
    });
    await ctx.sendActivity({ identifier: from }, actor, create);
    return { id: create.id.href, object: objectId.href, actor: actor.id.href };
  },
  // { from, to, object, content, kind: "EmojiReact" | "Like", undo } -> a
  // reaction to `object` (a message URL), or with `undo` its Undo.
  async react(ctx, { from = "fedi", to, object, content, kind = "EmojiReact", undo = null }) {
    const actor = await resolveActor(ctx, to);
    const values = {
      id: undo ? new URL(undo) : newId(from, "reactions"),
      actor: ctx.getActorUri(from),
      object: new URL(object),
      to: actor.id,
      ...(content ? { content } : {}),
    };
    const reaction = kind === "Like" ? new Like(values) : new EmojiReact(values);
    const activity = undo
      ? new Undo({ id: newId(from, "undos"), actor: ctx.getActorUri(from), to: actor.id, object: reaction })
      : reaction;
    await ctx.sendActivity({ identifier: from }, actor, activity);
    return { id: activity.id.href, reaction: reaction.id.href };
  },
  // { from, to } -> Block
  async block(ctx, { from = "fedi", to }) {
    const actor = await resolveActor(ctx, to);
    const block = new Block({ id: newId(from, "blocks"), actor: ctx.getActorUri(from), object: actor.id });
    await ctx.sendActivity({ identifier: from }, actor, block);
    return { id: block.id.href };
  },
  // { from, to, block } -> Undo{Block}
  async unblock(ctx, { from = "fedi", to, block }) {
    const actor = await resolveActor(ctx, to);
    const undo = new Undo({
      id: newId(from, "undos"),
      actor: ctx.getActorUri(from),
      object: new Block({ id: new URL(block), actor: ctx.getActorUri(from), object: actor.id }),
    });
    await ctx.sendActivity({ identifier: from }, actor, undo);
    return { id: undo.id.href };
  },
};

function json(status, value) {
  return new Response(JSON.stringify(value, null, 1), {
    status,
    headers: { "content-type": "application/json" },
  });
}

async function control(request) {
  const url = new URL(request.url);
  const name = url.pathname.slice("/_test/".length);
  if (request.method === "GET") {
    switch (name) {
      case "received": return json(200, received);
      case "inbox-posts": return json(200, inboxPosts);
      case "outgoing": return json(200, outgoing);
      case "locked-fetches": return json(200, fetchesOfLocked);
      case "log": return json(200, logLines);
      case "health": return json(200, { ok: true, origin, firstKnock });
    }
    return json(404, { error: `no ${name}` });
  }
  const handler = controls[name];
  if (request.method !== "POST" || handler == null) return json(404, { error: `no ${name}` });
  const ctx = federation.createContext(new URL(origin), undefined);
  try {
    return json(200, await handler(ctx, await request.json()));
  } catch (error) {
    return json(500, { error: String(error?.stack ?? error) });
  }
}

async function handle(request) {
  const url = new URL(request.url);
  if (url.pathname.startsWith("/_test/")) return await control(request);
  let post = null;
  if (request.method === "POST" && url.pathname.endsWith("inbox")) {
    post = {
      path: url.pathname,
      scheme: request.headers.has("signature-input")
        ? "rfc9421"
        : request.headers.has("signature")
          ? "draft-cavage"
          : "unsigned",
      signature: request.headers.get("signature"),
      signature_input: request.headers.get("signature-input"),
      body: await request.clone().text(),
      status: null,
    };
    inboxPosts.push(post);
  }
  const response = await federation.fetch(request, { contextData: undefined });
  if (post != null) {
    post.status = response.status;
    if (response.status >= 400) post.answer = await response.clone().text();
  }
  return response;
}

// node:http <-> fetch Request/Response.
const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const request = new Request(`http://${req.headers.host ?? `fedify.test:${port}`}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
    });
    const response = await handle(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    logLines.push(`server error: ${error?.stack ?? error}`);
    res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(error));
  }
});
server.listen(port, "127.0.0.1", () => {
  console.log(`fedify peer listening on ${origin} (127.0.0.1:${port})`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
