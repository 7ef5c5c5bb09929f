# Load the user's .zshrc, hand ZDOTDIR back to them (so .zlogin and tools see theirs), add hooks.
ZDOTDIR="$CMDAI_USER_ZDOTDIR"
[[ -f "$ZDOTDIR/.zshrc" ]] && builtin source "$ZDOTDIR/.zshrc"
builtin source "$__cmdai_zdotdir/cmdai.zsh"
unset CMDAI_USER_ZDOTDIR __cmdai_zdotdir
