// Starts GraphiQL against the path this page was served from: queries and mutations as JSON
// POSTs, subscriptions over graphql-transport-ws on the same path and host.
(function () {
  'use strict';
  var path = window.location.pathname;
  var wsScheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  var wsClient = graphqlWs.createClient({
    url: wsScheme + '//' + window.location.host + path,
    lazy: true,
  });
  var fetcher = GraphiQL.createFetcher({ url: path, wsClient: wsClient });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher }));
})();
