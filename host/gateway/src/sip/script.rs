//! The conversation of a plain SIP route: its prompt, then either the after-prompt action
//! or turns answered from the route's fixed texts. Tenants' agents (the dialog engine)
//! replace it; it stays for `voxgate sip serve`, for tests and for benchmarks that need
//! a real call without a tenant.

use std::sync::Arc;
use std::time::Duration;

use voxgate_speech::recognizer::Grammar;

use super::config::{AfterPrompt, Route, SipConfig};
use crate::conversation::{
    BoxFuture, Conversation, DEFAULT_END_SILENCE, DtmfCollect, Listen, Next, Prompt, Reply,
    TurnInput,
};

/// A route's conversation for one call.
#[derive(Debug)]
pub struct RouteScript {
    route: Route,
    greeting: Option<Arc<[i16]>>,
    grammar: Option<Arc<Grammar>>,
    no_inputs: u32,
}

impl RouteScript {
    pub fn new(route: Route, greeting: Option<Arc<[i16]>>) -> RouteScript {
        let phrases: Vec<String> = route
            .listen
            .iter()
            .map(|p| p.trim().to_lowercase())
            .collect();
        RouteScript {
            route,
            greeting,
            grammar: (!phrases.is_empty()).then(|| Arc::new(Grammar::Phrases(phrases))),
            no_inputs: 0,
        }
    }

    fn listen(&self) -> Next {
        let mut dtmf = DtmfCollect::default();
        if let Some(n) = self.route.dtmf_max_digits {
            dtmf.max_digits = n.max(1);
        }
        Next::Listen(Listen {
            grammar: self.grammar.clone(),
            end_silence: self
                .route
                .end_silence_ms
                .map_or(DEFAULT_END_SILENCE, Duration::from_millis),
            no_input: self.route.no_input_ms.map(Duration::from_millis),
            barge_in: SipConfig::barge_in(&self.route),
            dtmf,
        })
    }

    fn text(&self, text: &str) -> Prompt {
        Prompt::Text {
            text: text.to_string(),
            language: self.route.language.clone(),
            voice: self.route.voice.clone(),
        }
    }

    fn answer(&mut self, input: TurnInput) -> Reply {
        let said = match &input {
            TurnInput::NoInput => {
                self.no_inputs += 1;
                if self.no_inputs >= self.route.max_no_input.max(1) {
                    return Reply {
                        say: None,
                        next: Next::Hangup,
                    };
                }
                self.route.no_input_say.as_deref().map(|t| self.text(t))
            }
            TurnInput::NoMatch => {
                self.no_inputs = 0;
                self.route.no_match_say.as_deref().map(|t| self.text(t))
            }
            TurnInput::Speech { text, .. } | TurnInput::Dtmf { digits: text } => {
                self.no_inputs = 0;
                self.route
                    .reply
                    .as_deref()
                    .map(|r| self.text(&r.replace("{text}", text)))
            }
        };
        Reply {
            say: said,
            next: self.listen(),
        }
    }
}

impl Conversation for RouteScript {
    fn begin(&mut self) -> BoxFuture<'_, Reply> {
        let next = if self.route.listens() {
            self.listen()
        } else {
            match (&self.route.after_prompt, &self.route.transfer_to) {
                (AfterPrompt::Hangup, _) => Next::Hangup,
                (AfterPrompt::Transfer, Some(target)) => Next::Transfer(target.clone()),
                _ => Next::Wait,
            }
        };
        let say = self.greeting.clone().map(Prompt::Audio);
        Box::pin(async move { Reply { say, next } })
    }

    fn respond(&mut self, input: TurnInput) -> BoxFuture<'_, Reply> {
        let reply = self.answer(input);
        Box::pin(async move { reply })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(extra: &str) -> Route {
        let text = format!("number = \"100\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    fn said(reply: &Reply) -> Option<String> {
        match &reply.say {
            Some(Prompt::Text { text, .. }) => Some(text.clone()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn replies_echo_the_input_and_silence_ends_the_call_after_the_limit() {
        let mut s = RouteScript::new(
            route(
                "listen = [\"Yes\", \"no\"]\nreply = \"you said {text}\"\nno_input_ms = 4000\n\
                 no_input_say = \"are you there\"\nmax_no_input = 2\nno_match_say = \"sorry\"",
            ),
            None,
        );
        let first = s.begin().await;
        match &first.next {
            Next::Listen(l) => {
                assert_eq!(
                    l.grammar.as_deref(),
                    Some(&Grammar::Phrases(vec!["yes".into(), "no".into()]))
                );
                assert_eq!(l.no_input, Some(Duration::from_millis(4000)));
                assert!(l.barge_in);
            }
            other => panic!("expected a turn, got {other:?}"),
        }
        let r = s
            .respond(TurnInput::Speech {
                text: "yes".into(),
                confidence: 1.0,
            })
            .await;
        assert_eq!(said(&r).as_deref(), Some("you said yes"));
        let r = s
            .respond(TurnInput::Dtmf {
                digits: "42".into(),
            })
            .await;
        assert_eq!(said(&r).as_deref(), Some("you said 42"));
        assert_eq!(
            said(&s.respond(TurnInput::NoMatch).await).as_deref(),
            Some("sorry")
        );
        let r = s.respond(TurnInput::NoInput).await;
        assert_eq!(said(&r).as_deref(), Some("are you there"));
        assert!(matches!(r.next, Next::Listen(_)));
        let r = s.respond(TurnInput::NoInput).await;
        assert!(matches!(r.next, Next::Hangup), "{r:?}");
    }

    #[tokio::test]
    async fn routes_without_turns_keep_their_after_prompt_action() {
        let mut s = RouteScript::new(
            route("after_prompt = \"transfer\"\ntransfer_to = \"sip:desk@example.com\""),
            Some(Arc::from(vec![1i16; 80])),
        );
        let r = s.begin().await;
        assert!(matches!(r.say, Some(Prompt::Audio(_))));
        assert!(matches!(&r.next, Next::Transfer(t) if t == "sip:desk@example.com"));
        let mut s = RouteScript::new(route("after_prompt = \"hangup\""), None);
        assert!(matches!(s.begin().await.next, Next::Hangup));
    }
}
