//! HTTP routes. Handlers only parse, lock, call into `shop`/`tx` and serialise; the
//! business rules live there so they can be tested without HTTP.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ShopError;
use crate::model::{
    Complaint, Contact, Delivery, FrequentItem, KnowledgeAnswer, Order, OrderSummary, ProductView,
    Promotion, Stats, Ticket, TicketCreated, TicketRequest, normalize_phone,
};
use crate::search;
use crate::shop::Shop;
use crate::tx::{self, PrepareRequest, TxView};

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;

/// The whole API, with auth and request counting in front of every route.
pub fn router(shop: Shop) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/stats", get(stats))
        .route("/contacts/by-phone/{phone}", get(contact_by_phone))
        .route("/contacts/{id}", get(contact))
        .route("/contacts/{id}/orders", get(contact_orders))
        .route("/contacts/{id}/frequent", get(frequent))
        .route("/contacts/{id}/recommendations", get(recommendations))
        .route("/contacts/{id}/complaints", get(contact_complaints))
        .route("/orders", get(orders))
        .route("/orders/{id}", get(order))
        .route("/deliveries/by-order/{order_id}", get(delivery))
        .route("/products", get(products))
        .route("/products/{sku}", get(product))
        .route("/promotions", get(promotions))
        .route("/complaints/{id}", get(complaint))
        .route("/knowledge", get(knowledge))
        .route("/tickets", post(create_ticket).get(tickets))
        .route("/recordings/{reference}", get(recording).put(put_recording))
        .route("/transactions", post(prepare))
        .route("/transactions/{id}", get(transaction))
        .route("/transactions/{id}/commit", post(commit))
        .route("/transactions/{id}/abort", post(abort))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(shop.clone(), guard))
        .with_state(shop)
}

/// Counts every request and, with an API key configured, turns away those without it.
async fn guard(State(shop): State<Shop>, req: Request, next: Next) -> Response {
    shop.count_request();
    if let Some(key) = shop.api_key()
        && req.uri().path() != "/healthz"
    {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        match presented {
            None => {
                return ShopError::Unauthorized(
                    "missing 'Authorization: Bearer <api key>' header".into(),
                )
                .into_response();
            }
            Some(p) if !constant_time_eq(p.as_bytes(), key.as_bytes()) => {
                return ShopError::Unauthorized("wrong API key".into()).into_response();
            }
            Some(_) => {}
        }
    }
    next.run(req).await
}

/// A timing-independent comparison, so the key cannot be guessed byte by byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn unknown_route(req: Request) -> ShopError {
    ShopError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.uri().path()
    ))
}

async fn wrong_method(req: Request) -> ShopError {
    ShopError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        req.method(),
        req.uri().path()
    ))
}

/// JSON body that ignores the content type (plugins do not always set it) and
/// reports parse failures in our error shape.
struct JsonBody<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ShopError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ShopError::Invalid(format!("could not read the request body: {e}")))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ShopError::Invalid(format!("bad JSON body: {e}")))
    }
}

/// Query string in our error shape (axum's own rejection is plain text).
struct Params<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ShopError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Params(q))
            .map_err(|e| ShopError::Invalid(e.body_text()))
    }
}

/// One path segment, percent-decoded, in our error shape.
struct Segment(String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ShopError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(s)| Segment(s))
            .map_err(|e| ShopError::Invalid(e.body_text()))
    }
}

#[derive(Debug, Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

fn limit(requested: Option<usize>) -> Result<usize, ShopError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(ShopError::Invalid("limit must be at least 1".into())),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

type ApiResult<T> = Result<Json<T>, ShopError>;

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn stats(State(shop): State<Shop>) -> Json<Stats> {
    Json(shop.stats())
}

async fn contact_by_phone(State(shop): State<Shop>, Segment(phone): Segment) -> ApiResult<Contact> {
    shop.with(|s, _| s.contact_by_phone(&phone).cloned().map(Json))
}

async fn contact(State(shop): State<Shop>, Segment(id): Segment) -> ApiResult<Contact> {
    shop.with(|s, _| s.contact(&id).cloned().map(Json))
}

async fn contact_orders(
    State(shop): State<Shop>,
    Segment(id): Segment,
    Params(q): Params<LimitQuery>,
) -> ApiResult<Vec<OrderSummary>> {
    let n = limit(q.limit)?;
    shop.with(|s, _| {
        s.contact(&id)?;
        Ok(Json(
            s.orders_of(&id)
                .into_iter()
                .take(n)
                .map(Order::summary)
                .collect(),
        ))
    })
}

async fn frequent(
    State(shop): State<Shop>,
    Segment(id): Segment,
    Params(q): Params<LimitQuery>,
) -> ApiResult<Vec<FrequentItem>> {
    let n = limit(q.limit)?;
    shop.with(|s, _| {
        s.contact(&id)?;
        Ok(Json(s.frequent(&id).into_iter().take(n).collect()))
    })
}

async fn recommendations(
    State(shop): State<Shop>,
    Segment(id): Segment,
    Params(q): Params<LimitQuery>,
) -> ApiResult<Vec<ProductView>> {
    let n = limit(q.limit)?;
    shop.with(|s, _| {
        s.contact(&id)?;
        Ok(Json(s.recommendations(&id).into_iter().take(n).collect()))
    })
}

#[derive(Debug, Deserialize)]
struct ComplaintQuery {
    status: Option<String>,
}

async fn contact_complaints(
    State(shop): State<Shop>,
    Segment(id): Segment,
    Params(q): Params<ComplaintQuery>,
) -> ApiResult<Vec<Complaint>> {
    let only_open = match q.status.as_deref() {
        None | Some("" | "all") => false,
        Some("open") => true,
        Some(other) => {
            return Err(ShopError::Invalid(format!(
                "status must be 'open' or 'all', not '{other}'"
            )));
        }
    };
    shop.with(|s, _| {
        s.contact(&id)?;
        Ok(Json(s.complaints_of(&id, only_open)))
    })
}

#[derive(Debug, Deserialize)]
struct OrdersQuery {
    contact_id: Option<String>,
}

async fn orders(State(shop): State<Shop>, Params(q): Params<OrdersQuery>) -> ApiResult<Vec<Order>> {
    shop.with(|s, _| match q.contact_id.as_deref() {
        Some(id) => {
            s.contact(id)?;
            Ok(Json(s.orders_of(id).into_iter().cloned().collect()))
        }
        None => {
            let mut all: Vec<Order> = s.orders.clone();
            all.sort_by(|a, b| b.placed_at.cmp(&a.placed_at).then(b.id.cmp(&a.id)));
            Ok(Json(all))
        }
    })
}

async fn order(State(shop): State<Shop>, Segment(id): Segment) -> ApiResult<Order> {
    shop.with(|s, _| s.order(&id).cloned().map(Json))
}

async fn delivery(State(shop): State<Shop>, Segment(id): Segment) -> ApiResult<Delivery> {
    shop.with(|s, _| s.delivery(&id).map(Json))
}

#[derive(Debug, Deserialize)]
struct ProductQuery {
    q: Option<String>,
    limit: Option<usize>,
}

async fn products(
    State(shop): State<Shop>,
    Params(q): Params<ProductQuery>,
) -> ApiResult<Vec<ProductView>> {
    let n = limit(q.limit)?;
    let text = q.q.unwrap_or_default();
    shop.with(|s, _| {
        Ok(Json(
            search::search_products(&text, &s.products)
                .into_iter()
                .take(n)
                .map(ProductView::from)
                .collect(),
        ))
    })
}

async fn product(State(shop): State<Shop>, Segment(sku): Segment) -> ApiResult<ProductView> {
    shop.with(|s, _| s.product(&sku).map(|p| Json(p.into())))
}

#[derive(Debug, Deserialize)]
struct PromotionQuery {
    contact_id: Option<String>,
}

async fn promotions(
    State(shop): State<Shop>,
    Params(q): Params<PromotionQuery>,
) -> ApiResult<Vec<Promotion>> {
    shop.with(|s, now| {
        let contact = match q.contact_id.as_deref() {
            Some(id) if !id.is_empty() => Some(s.contact(id)?),
            _ => None,
        };
        Ok(Json(s.promotions_for(contact, now)))
    })
}

async fn complaint(State(shop): State<Shop>, Segment(id): Segment) -> ApiResult<Complaint> {
    shop.with(|s, _| s.complaint(&id).cloned().map(Json))
}

#[derive(Debug, Deserialize)]
struct KnowledgeQuery {
    q: Option<String>,
}

async fn knowledge(
    State(shop): State<Shop>,
    Params(q): Params<KnowledgeQuery>,
) -> ApiResult<KnowledgeAnswer> {
    let question = q.q.unwrap_or_default();
    if question.trim().is_empty() {
        return Err(ShopError::Invalid("q (the question) is required".into()));
    }
    shop.with(|s, _| {
        let (entry, score) = search::best_answer(&question, s.knowledge()).ok_or_else(|| {
            ShopError::NotFound(format!("no answer in the knowledge base for '{question}'"))
        })?;
        Ok(Json(KnowledgeAnswer {
            answer: entry.answer.to_owned(),
            source: format!("faq/{}", entry.id),
            score,
            question: entry.question.to_owned(),
        }))
    })
}

async fn create_ticket(
    State(shop): State<Shop>,
    JsonBody(req): JsonBody<TicketRequest>,
) -> Result<(StatusCode, Json<TicketCreated>), ShopError> {
    let phone = normalize_phone(&req.phone).ok_or_else(|| {
        ShopError::Invalid(format!("phone '{}' is not an E.164 number", req.phone))
    })?;
    let subject = req.subject.trim();
    if subject.is_empty() || subject.len() > 200 {
        return Err(ShopError::Invalid(
            "subject must be 1 to 200 characters".into(),
        ));
    }
    if req.body.len() > 10_000 {
        return Err(ShopError::Invalid(
            "body must be at most 10000 characters".into(),
        ));
    }
    shop.with(|s, now| {
        let contact_id = match req.contact_id.as_deref() {
            Some(id) if !id.is_empty() => Some(s.contact(id)?.id.clone()),
            _ => None,
        };
        let id = s.new_ticket_id();
        let message = ticket_message(&req, &id, &phone);
        let ticket = Ticket {
            id: id.clone(),
            channel: req.channel,
            contact_id,
            phone,
            subject: subject.to_owned(),
            body: req.body.clone(),
            priority: req.priority,
            created_at: now,
            reference: id.clone(),
            message: message.clone(),
        };
        tracing::info!(ticket = %id, channel = ?req.channel, "ticket created");
        s.tickets.push(ticket);
        Ok((
            StatusCode::CREATED,
            Json(TicketCreated {
                id: id.clone(),
                channel: req.channel,
                reference: id,
                message,
            }),
        ))
    })
}

/// What the agent tells the caller happens next, per channel.
fn ticket_message(req: &TicketRequest, id: &str, phone: &str) -> String {
    use crate::model::{Channel, Priority};
    let when = match req.priority {
        Priority::High => "within 30 minutes",
        Priority::Normal => "within one working day",
    };
    match req.channel {
        Channel::Ticket => format!("Ticket {id} has been opened; our team will reply {when}."),
        Channel::Email => format!("We will answer by e-mail {when}; your reference is {id}."),
        Channel::Whatsapp => {
            format!("We will message you on WhatsApp at {phone} {when}; your reference is {id}.")
        }
        Channel::Callback => {
            format!("A colleague will call you back on {phone} {when}; your reference is {id}.")
        }
    }
}

async fn tickets(State(shop): State<Shop>) -> ApiResult<Vec<Ticket>> {
    shop.with(|s, _| Ok(Json(s.tickets.clone())))
}

async fn recording(
    State(shop): State<Shop>,
    Segment(reference): Segment,
) -> Result<Response, ShopError> {
    let wav = shop.with(|s, _| s.recordings.get(&reference).cloned());
    let wav = wav.ok_or_else(|| ShopError::NotFound(format!("no recording '{reference}'")))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], wav).into_response())
}

/// Stores a recording under a reference (what a PBX's storage would hold), so that
/// analytics can be tried with real speech.
async fn put_recording(
    State(shop): State<Shop>,
    Segment(reference): Segment,
    body: Bytes,
) -> StatusCode {
    shop.with(|s, _| {
        s.recordings.insert(reference, body);
    });
    StatusCode::NO_CONTENT
}

async fn prepare(
    State(shop): State<Shop>,
    JsonBody(req): JsonBody<PrepareRequest>,
) -> Result<(StatusCode, Json<TxView>), ShopError> {
    let (view, created) = shop.with(|s, now| tx::prepare(s, req, now))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

async fn transaction(State(shop): State<Shop>, Segment(id): Segment) -> ApiResult<TxView> {
    shop.with(|s, _| tx::get(s, &id).map(Json))
}

async fn commit(State(shop): State<Shop>, Segment(id): Segment) -> ApiResult<TxView> {
    shop.with(|s, now| tx::commit(s, &id, now).map(Json))
}

async fn abort(State(shop): State<Shop>, Segment(id): Segment) -> ApiResult<TxView> {
    shop.with(|s, _| tx::abort(s, &id).map(Json))
}
