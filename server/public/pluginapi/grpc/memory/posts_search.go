package memory

// This file holds the post searches of the posts domain.

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Paging of SearchPostsInTeamForUser.
const (
	searchDefaultPerPage = 60
	searchMaxPerPage     = 200
)

// words splits text into lower-case words, as the search indexes them.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '#' && r != '_' && r != '-'
	})
}

// termMatches reports whether a search term matches one of a post's words;
// a term ending in "*" matches as a prefix.
func termMatches(term string, postWords []string) bool {
	if prefix, ok := strings.CutSuffix(term, "*"); ok {
		return slices.ContainsFunc(postWords, func(w string) bool { return strings.HasPrefix(w, prefix) })
	}
	return slices.Contains(postWords, term)
}

// day parses a "YYYY-MM-DD" date at the searcher's offset; ok is false for
// an empty date.
func day(date string, offsetSeconds int32) (start int64, ok bool, err error) {
	if date == "" {
		return 0, false, nil
	}
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return 0, false, apperror.New("api.post.search_posts.invalid_date.app_error",
			`Invalid date: use "YYYY-MM-DD".`, "date="+apperror.Truncate(date, apperror.MaxShortBytes), http.StatusBadRequest)
	}
	return t.Add(-time.Duration(offsetSeconds) * time.Second).UnixMilli(), true, nil
}

// compileSearches compiles each search, and fails at the first that does
// not compile. A search whose terms are exactly "*" is skipped, as
// App.searchPostsInTeam and App.SearchPostsForUser skip it ("Don't allow
// users to search for everything", post.go@285f792d).
func compileSearches(params []*pluginpb.SearchParams) ([]*searchMatcher, error) {
	matchers := make([]*searchMatcher, 0, len(params))
	for _, p := range params {
		if p.GetTerms() == "*" {
			continue
		}
		m, err := compileSearch(p)
		if err != nil {
			return nil, err
		}
		matchers = append(matchers, m)
	}
	return matchers, nil
}

const dayMillis = 24 * 60 * 60 * 1000

// searchMatcher is one compiled SearchParams.
type searchMatcher struct {
	p                                      *pluginpb.SearchParams
	terms, excluded                        []string
	after, before, on, notAfter, notBefore int64
	hasAfter, hasBefore, hasOn             bool
	hasNotAfter, hasNotBefore, hasNotOn    bool
	notOn                                  int64
}

func compileSearch(p *pluginpb.SearchParams) (*searchMatcher, error) {
	m := &searchMatcher{p: p, terms: words(p.GetTerms()), excluded: words(p.GetExcludedTerms())}
	if p.GetIsHashtag() {
		m.terms = strings.Fields(strings.ToLower(p.GetTerms()))
	}
	// Restore the "*" of prefix terms, which words drops.
	for i, raw := range strings.Fields(strings.ToLower(p.GetTerms())) {
		if strings.HasSuffix(raw, "*") && i < len(m.terms) {
			m.terms[i] = strings.TrimSuffix(strings.Join(words(raw), ""), "*") + "*"
		}
	}
	var err error
	off := p.GetTimeZoneOffset()
	for _, d := range []struct {
		date string
		at   *int64
		has  *bool
	}{
		{p.GetAfterDate(), &m.after, &m.hasAfter}, {p.GetBeforeDate(), &m.before, &m.hasBefore},
		{p.GetOnDate(), &m.on, &m.hasOn}, {p.GetExcludedAfterDate(), &m.notAfter, &m.hasNotAfter},
		{p.GetExcludedBeforeDate(), &m.notBefore, &m.hasNotBefore}, {p.GetExcludedDate(), &m.notOn, &m.hasNotOn},
	} {
		if *d.at, *d.has, err = day(d.date, off); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// matches reports whether a post, with its channel and author, matches.
func (m *searchMatcher) matches(p *pluginpb.Post, c *pluginpb.Channel, author string) bool {
	if c.GetDeleteAt() != 0 && !m.p.GetIncludeDeletedChannels() {
		return false
	}
	if len(m.p.GetInChannels()) > 0 && !slices.Contains(m.p.GetInChannels(), c.GetName()) ||
		slices.Contains(m.p.GetExcludedChannels(), c.GetName()) {
		return false
	}
	if len(m.p.GetFromUsers()) > 0 && !slices.Contains(m.p.GetFromUsers(), author) ||
		slices.Contains(m.p.GetExcludedUsers(), author) {
		return false
	}
	at := p.GetCreateAt()
	if m.hasAfter && at < m.after+dayMillis || m.hasBefore && at >= m.before ||
		m.hasOn && (at < m.on || at >= m.on+dayMillis) ||
		m.hasNotAfter && at >= m.notAfter+dayMillis || m.hasNotBefore && at < m.notBefore ||
		m.hasNotOn && at >= m.notOn && at < m.notOn+dayMillis {
		return false
	}
	postWords := words(p.GetMessage())
	if m.p.GetIsHashtag() {
		postWords = strings.Fields(strings.ToLower(p.GetHashtags()))
	}
	if slices.ContainsFunc(m.excluded, func(t string) bool { return termMatches(t, postWords) }) {
		return false
	}
	if len(m.terms) == 0 {
		return true
	}
	if m.p.GetOrTerms() {
		return slices.ContainsFunc(m.terms, func(t string) bool { return termMatches(t, postWords) })
	}
	return !slices.ContainsFunc(m.terms, func(t string) bool { return !termMatches(t, postWords) })
}

// search returns the live posts of a team's channels, and of the given
// user's direct and group messages, that any matcher finds, newest first.
// A userID limits the search to that user's channels. The caller holds
// the lock.
func (b *Backend) search(teamID, userID string, matchers []*searchMatcher) []*pluginpb.Post {
	var found []*pluginpb.Post
	for _, p := range b.posts.byID {
		if !live(p) {
			continue
		}
		c := b.channels.byID[p.GetChannelId()]
		if c.GetTeamId() != teamID && (c.GetTeamId() != "" || userID == "") {
			continue
		}
		if userID != "" {
			if _, member := b.channels.member(c.GetId(), userID); !member {
				continue
			}
		}
		author := ""
		if s, ok := b.users.byID[p.GetUserId()]; ok {
			author = s.user.GetUsername()
		}
		if slices.ContainsFunc(matchers, func(m *searchMatcher) bool { return m.matches(p, c, author) }) {
			found = append(found, p)
		}
	}
	slices.SortFunc(found, newestFirst)
	return found
}

// SearchPostsInTeam returns the posts of a team's channels that match any
// of the searches, newest first.
//
// As App.SearchPostsInTeam (post.go@285f792d), the team id is not checked:
// the store's search of an unknown or malformed team finds nothing.
func (b *Backend) SearchPostsInTeam(_ context.Context, req *pluginpb.SearchPostsInTeamRequest) (*pluginpb.SearchPostsInTeamResponse, error) {
	matchers, err := compileSearches(req.GetParamsList())
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	found := b.search(req.GetTeamId(), "", matchers)
	out := make([]*pluginpb.Post, len(found))
	for i, p := range found {
		out[i] = b.withReactions(p)
	}
	return &pluginpb.SearchPostsInTeamResponse{Posts: out}, nil
}

// searchesSomething reports whether ParseSearchParams would keep p: it has
// terms, excluded terms or a filter (channels, users, dates).
func searchesSomething(p *pluginpb.SearchParams) bool {
	return p.GetTerms() != "" || p.GetExcludedTerms() != "" ||
		len(p.GetInChannels())+len(p.GetExcludedChannels())+len(p.GetFromUsers())+len(p.GetExcludedUsers()) > 0 ||
		p.GetAfterDate()+p.GetExcludedAfterDate()+p.GetBeforeDate()+p.GetExcludedBeforeDate()+p.GetOnDate()+p.GetExcludedDate() != ""
}

// parseSearch turns search text into SearchParams, as
// model.ParseSearchParams does for the flags from:, in:, channel:,
// before:, after:, on: and a leading "-" that excludes. Words that start
// with "#" make a separate hashtag search.
func parseSearch(text string, orTerms, includeDeleted bool, offset int32) []*pluginpb.SearchParams {
	plain := &pluginpb.SearchParams{OrTerms: orTerms, IncludeDeletedChannels: includeDeleted, TimeZoneOffset: offset}
	tags := &pluginpb.SearchParams{IsHashtag: true, OrTerms: orTerms, IncludeDeletedChannels: includeDeleted, TimeZoneOffset: offset}
	var terms, excluded, tagTerms []string
	for _, word := range strings.Fields(text) {
		exclude := strings.HasPrefix(word, "-")
		word = strings.TrimPrefix(word, "-")
		flag, value, hasFlag := strings.Cut(word, ":")
		switch {
		case hasFlag && (flag == "from"):
			value = strings.TrimPrefix(value, "@")
			if exclude {
				plain.ExcludedUsers = append(plain.ExcludedUsers, value)
			} else {
				plain.FromUsers = append(plain.FromUsers, value)
			}
		case hasFlag && (flag == "in" || flag == "channel"):
			value = strings.TrimPrefix(value, "~")
			if exclude {
				plain.ExcludedChannels = append(plain.ExcludedChannels, value)
			} else {
				plain.InChannels = append(plain.InChannels, value)
			}
		case hasFlag && flag == "after":
			if exclude {
				plain.ExcludedAfterDate = value
			} else {
				plain.AfterDate = value
			}
		case hasFlag && flag == "before":
			if exclude {
				plain.ExcludedBeforeDate = value
			} else {
				plain.BeforeDate = value
			}
		case hasFlag && flag == "on":
			if exclude {
				plain.ExcludedDate = value
			} else {
				plain.OnDate = value
			}
		case strings.HasPrefix(word, "#") && !exclude:
			tagTerms = append(tagTerms, word)
		case exclude:
			excluded = append(excluded, word)
		default:
			terms = append(terms, word)
		}
	}
	plain.Terms = strings.Join(terms, " ")
	plain.ExcludedTerms = strings.Join(excluded, " ")
	out := []*pluginpb.SearchParams{}
	if len(terms) > 0 || len(tagTerms) == 0 {
		out = append(out, plain)
	}
	if len(tagTerms) > 0 {
		tags.Terms = strings.Join(tagTerms, " ")
		tags.InChannels, tags.FromUsers = plain.GetInChannels(), plain.GetFromUsers()
		tags.AfterDate, tags.BeforeDate, tags.OnDate = plain.GetAfterDate(), plain.GetBeforeDate(), plain.GetOnDate()
		out = append(out, tags)
	}
	return out
}

// SearchPostsInTeamForUser searches the posts that a user can see in a
// team: the team's channels the user is a member of, and the user's direct
// and group messages.
func (b *Backend) SearchPostsInTeamForUser(_ context.Context, req *pluginpb.SearchPostsInTeamForUserRequest) (*pluginpb.SearchPostsInTeamForUserResponse, error) {
	if !isValidID(req.GetTeamId()) {
		return nil, invalidParam("team_id")
	}
	// PluginAPI.SearchPostsInTeamForUser reads absent params and nil terms
	// as "": ParseSearchParams then yields no search, and the answer is
	// empty (App.SearchPostsForUser, post.go@285f792d).
	sp := req.GetSearchParams()
	pageNum, perPage := sp.GetPage(), sp.GetPerPage()
	if sp == nil || sp.PerPage == nil {
		perPage = searchDefaultPerPage
	}
	if err := validatePaging(pageNum, perPage); err != nil {
		return nil, err
	}
	if perPage > searchMaxPerPage {
		return nil, apperror.New("api.post.search_posts_for_user.per_page.app_error",
			"Invalid per_page: at most 200.", "per_page="+itoa(int(perPage)), http.StatusBadRequest)
	}
	params := slices.DeleteFunc(parseSearch(sp.GetTerms(), sp.GetIsOrSearch(), sp.GetIncludeDeletedChannels(), sp.GetTimeZoneOffset()),
		func(p *pluginpb.SearchParams) bool { return !searchesSomething(p) })
	matchers, err := compileSearches(params)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.user(req.GetUserId()); err != nil {
		return nil, err
	}
	var found []*pluginpb.Post
	if len(params) > 0 {
		found = page(b.search(req.GetTeamId(), req.GetUserId(), matchers), pageNum, perPage)
	}
	results := &pluginpb.PostSearchResults{PostList: b.posts.list(found), Matches: map[string]*pluginpb.SearchMatches{}}
	for _, p := range found {
		postWords := words(p.GetMessage() + " " + p.GetHashtags())
		var matched []string
		for _, m := range matchers {
			for _, t := range m.terms {
				for _, w := range postWords {
					if termMatches(t, []string{w}) && !slices.Contains(matched, w) {
						matched = append(matched, w)
					}
				}
			}
		}
		results.Matches[p.GetId()] = &pluginpb.SearchMatches{Words: matched}
	}
	return &pluginpb.SearchPostsInTeamForUserResponse{Results: results}, nil
}
