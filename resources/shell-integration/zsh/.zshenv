# cmdai: zsh reads this because ZDOTDIR points here. Load the user's own .zshenv first.
__cmdai_zdotdir="$ZDOTDIR"
ZDOTDIR="${CMDAI_USER_ZDOTDIR:-$HOME}"
[[ -f "$ZDOTDIR/.zshenv" ]] && builtin source "$ZDOTDIR/.zshenv"
CMDAI_USER_ZDOTDIR="$ZDOTDIR"
ZDOTDIR="$__cmdai_zdotdir"
