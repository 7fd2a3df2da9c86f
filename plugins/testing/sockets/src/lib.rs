//! sockets: a plugin that opens a raw TCP socket, so it imports `wasi:sockets`. voxgate
//! links sockets (language runtimes import them) but refuses every operation: plugins
//! reach the network only through `wasi:http`.

use voxgate_sdk::knowledge::{FaqAnswer, Knowledge};
use voxgate_sdk::{CallContext, Error};

struct Sockets;

impl Knowledge for Sockets {
    fn answer(_ctx: CallContext, question: String) -> Result<FaqAnswer, Error> {
        let stream = std::net::TcpStream::connect(question.as_str())
            .map_err(|e| Error::unavailable(e.to_string()))?;
        Ok(FaqAnswer {
            text: format!("connected to {:?}", stream.peer_addr().ok()),
            source: None,
            confidence: 0,
        })
    }
}

voxgate_sdk::export!(Sockets: knowledge);
