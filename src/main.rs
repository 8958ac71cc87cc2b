//! The `confab` binary: parse the configuration, start logging, run the
//! chosen command.

use confab::chat::invitations::NewInvitation;
use confab::chat::principal::Principal;
use confab::chat::users::{NewUser, Role};
use confab::config::{Cli, Command, UserCommand};
use confab::server;
use confab::state::AppState;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = match Cli::load() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_new(&cli.config.log).unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("confab: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState::build(cli.config).await?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::run(state).await?,
        Command::Migrate => println!("migrations applied"),
        Command::User(UserCommand::Create {
            name,
            password,
            admin,
        }) => {
            let cli_actor = Principal::Service {
                subject: "cli".into(),
            };
            let new = NewUser {
                name,
                password: Some(password),
                display_name: String::new(),
                bio: String::new(),
                avatar_url: None,
                profile_links: vec![],
                role: Some(if admin { Role::Admin } else { Role::User }),
            };
            let user = state.chat.create_user(&cli_actor, new).await?;
            println!("created {} ({}, {:?})", user.name, user.id, user.role);
        }
        Command::User(UserCommand::Invite { uses, expires_in_s }) => {
            let cli_actor = Principal::Service {
                subject: "cli".into(),
            };
            let new = NewInvitation {
                max_uses: uses,
                expires_in_s,
            };
            let invitation = state.chat.create_invitation(&cli_actor, new).await?;
            println!("{}", invitation.code);
        }
        Command::User(UserCommand::List) => {
            let mut after = String::new();
            loop {
                let page = state.chat.list_users(None, "", &after, 100).await?;
                for user in &page.users {
                    println!("{}\t{}\t{:?}", user.name, user.id, user.role);
                }
                match page.next {
                    Some(next) => after = next,
                    None => break,
                }
            }
        }
    }
    Ok(())
}
