//! The `confab` binary: parse the configuration, start logging, run the
//! chosen command.

use confab::chat::accounts::PasswordReset;
use confab::chat::invitations::NewInvitation;
use confab::chat::ip_rules::NewIpRule;
use confab::chat::principal::Principal;
use confab::chat::profiles::ProfilePatch;
use confab::chat::users::{NewUser, Role};
use confab::config::{Cli, Command, IpRuleCommand, UserCommand};
use confab::db::Db;
use confab::state::AppState;
use confab::{logging, server};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: the server allocates and frees many
/// small buffers per request from several threads, where glibc's allocator
/// took a sixth of the CPU of a federation benchmark (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::load() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("confab: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&cli.config);
    let format = cli.config.log_format;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            logging::fatal(format, &format_args!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logging::fatal(format, &e);
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            for warning in cli.config.warnings() {
                tracing::warn!("{warning}");
            }
            server::run(AppState::build(cli.config).await?).await?;
        }
        Command::Migrate => {
            AppState::build(cli.config).await?;
            println!("migrations applied");
        }
        Command::User(command) => user(AppState::build(cli.config).await?, command).await?,
        Command::IpRule(command) => ip_rule(AppState::build(cli.config).await?, command).await?,
        // A copy of the database as it is: no migrations, no services.
        Command::Backup { path } => {
            let db = Db::connect(&cli.config.database_url, 1).await?;
            db.backup_to(&path).await?;
            println!("backed up to {}", path.display());
        }
    }
    Ok(())
}

async fn user(state: AppState, command: UserCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        UserCommand::Create {
            name,
            password,
            admin,
        } => {
            let cli_actor = cli();
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
            println!("created {} ({}, {})", user.name, user.id, user.role);
        }
        UserCommand::Invite { uses, expires_in_s } => {
            let cli_actor = cli();
            let new = NewInvitation {
                max_uses: uses,
                expires_in_s,
            };
            let invitation = state.chat.create_invitation(&cli_actor, new).await?;
            println!("{}", invitation.code);
        }
        UserCommand::Role { name, role } => {
            let cli_actor = cli();
            let patch = ProfilePatch {
                role: Some(role),
                ..ProfilePatch::default()
            };
            let user = state.chat.patch_profile(&cli_actor, &name, patch).await?;
            println!("{} is now {}", user.name, user.role);
        }
        UserCommand::List => {
            let mut after = String::new();
            loop {
                let page = state.chat.list_users(None, "", &after, 100).await?;
                for user in &page.users {
                    let standing = if user.suspended {
                        "suspended"
                    } else {
                        "active"
                    };
                    println!("{}\t{}\t{}\t{standing}", user.name, user.id, user.role);
                }
                match page.next {
                    Some(next) => after = next,
                    None => break,
                }
            }
        }
        UserCommand::Password { name, password } => {
            let new_password = match password {
                Some(password) => password,
                None => read_password()?,
            };
            let reset = PasswordReset { new_password };
            let user = state.chat.reset_password(&cli(), &name, reset).await?;
            println!("password of {} set; their sessions end", user.name);
        }
        UserCommand::Suspend { name } => {
            let user = state.chat.suspend_user(&cli(), &name, true).await?;
            println!("suspended {}", user.name);
        }
        UserCommand::Unsuspend { name } => {
            let user = state.chat.suspend_user(&cli(), &name, false).await?;
            println!("reinstated {}", user.name);
        }
    }
    Ok(())
}

/// `confab ip-rule`: works on the database alone, so it also lets an admin
/// back in whom a rule locked out.
async fn ip_rule(
    state: AppState,
    command: IpRuleCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    let cli_actor = cli();
    match command {
        IpRuleCommand::List => {
            for rule in state.chat.ip_rules(&cli_actor).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    rule.id,
                    rule.scope.as_str(),
                    rule.action.as_str(),
                    rule.cidr,
                    rule.note
                );
            }
        }
        IpRuleCommand::Add {
            scope,
            action,
            cidr,
            note,
        } => {
            let new = NewIpRule {
                scope,
                action,
                cidr,
                note,
            };
            let rule = state.chat.add_ip_rule(&cli_actor, new, None).await?;
            println!(
                "added rule {}: {} {} {}",
                rule.id,
                rule.scope.as_str(),
                rule.action.as_str(),
                rule.cidr
            );
        }
        IpRuleCommand::Remove { id } => {
            state.chat.remove_ip_rule(&cli_actor, id, None).await?;
            println!("removed rule {id}");
        }
    }
    Ok(())
}

/// The CLI acts as a service: admin rights, no account.
fn cli() -> Principal {
    Principal::Service {
        subject: "cli".into(),
    }
}

/// The first line of standard input, without its line ending.
fn read_password() -> std::io::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
