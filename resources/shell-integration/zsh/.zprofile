ZDOTDIR="$CMDAI_USER_ZDOTDIR"
[[ -f "$ZDOTDIR/.zprofile" ]] && builtin source "$ZDOTDIR/.zprofile"
ZDOTDIR="$__cmdai_zdotdir"
