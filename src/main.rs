//! The `confab` binary: parse the configuration, start logging, run the
//! chosen command.

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
            println!("created {} ({}, {})", user.name, user.id, user.role);
        }
        UserCommand::Invite { uses, expires_in_s } => {
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
        UserCommand::Role { name, role } => {
            let cli_actor = Principal::Service {
                subject: "cli".into(),
            };
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
                    println!("{}\t{}\t{}", user.name, user.id, user.role);
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

/// `confab ip-rule`: works on the database alone, so it also lets an admin
/// back in whom a rule locked out.
async fn ip_rule(
    state: AppState,
    command: IpRuleCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    let cli_actor = Principal::Service {
        subject: "cli".into(),
    };
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
