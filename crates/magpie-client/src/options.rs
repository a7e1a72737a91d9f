use std::time::Duration;

/// How a client connects and who it says it is. Build with the `with_*` methods.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Link addresses (`host:port`), tried in order.
    pub servers: Vec<String>,
    /// NIMClientType of this device.
    pub client_type: u32,
    /// Device id; stable per installation.
    pub device_id: String,
    /// OS string reported to other devices.
    pub client_os: String,
    /// MAC address reported to other devices.
    pub mac: String,
    /// App-defined client type (0 for none).
    pub custom_client_type: u32,
    /// Time allowed for TCP connect plus hello.
    pub connect_timeout: Duration,
    /// Time allowed for a request's answer.
    pub request_timeout: Duration,
    /// Largest frame accepted from the server.
    pub max_frame: u32,
}

impl ClientOptions {
    /// Options for one server address, as a Windows PC with a random device id.
    pub fn new(server: impl Into<String>) -> Self {
        ClientOptions {
            servers: vec![server.into()],
            client_type: magpie_proto::types::client_type::PC_WINDOWS,
            device_id: random_device_id(),
            client_os: std::env::consts::OS.to_owned(),
            mac: String::new(),
            custom_client_type: 0,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            max_frame: 4 << 20,
        }
    }

    /// Sets the NIMClientType.
    pub fn with_client_type(mut self, t: u32) -> Self {
        self.client_type = t;
        self
    }

    /// Sets the device id.
    pub fn with_device_id(mut self, id: impl Into<String>) -> Self {
        self.device_id = id.into();
        self
    }

    /// Adds a fallback link address.
    pub fn with_server(mut self, s: impl Into<String>) -> Self {
        self.servers.push(s.into());
        self
    }

    /// Sets the custom client type.
    pub fn with_custom_client_type(mut self, t: u32) -> Self {
        self.custom_client_type = t;
        self
    }

    /// Sets the request timeout.
    pub fn with_request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
}

fn random_device_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What `login` takes: NIM's app key, account and token plus LoginParams.
#[derive(Clone, Debug, Default)]
pub struct LoginParams {
    /// App key.
    pub app_key: String,
    /// Account.
    pub account: String,
    /// Token.
    pub token: String,
    /// Custom login data shown to the account's other devices (`custom_tag`).
    pub custom_tag: String,
    /// NIMAuthType.
    pub auth_type: u32,
    /// Extra data for the third-party callback.
    pub login_ex: String,
}

impl LoginParams {
    /// App key, account and static token.
    pub fn new(
        app_key: impl Into<String>,
        account: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        LoginParams {
            app_key: app_key.into(),
            account: account.into(),
            token: token.into(),
            ..Default::default()
        }
    }
}
